package io.dsogym.wire;

import io.dsogym.env.DType;
import io.dsogym.env.Spaces;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv.VectorResetResult;
import io.dsogym.env.VectorEnv.VectorStepResult;
import io.dsogym.wire.v1.ResetRequest;
import io.dsogym.wire.v1.ResetResult;
import io.dsogym.wire.v1.StepResult;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Batched reset/step requests and results <-> their wire messages. Encoding copies tensor bytes
 * once (a VectorEnv may reuse its output buffers); decoding wraps the message's bytes.
 */
public final class ResultCodec {
  private ResultCodec() {}

  /**
   * A decoded {@code ResetRequest}: seeds (maybe empty), the lanes that take no seed of theirs
   * (null: none), options, and a mask or null.
   */
  public record Reset(long[] seeds, boolean[] unseeded, Map<String, Object> options,
      boolean[] mask) {}

  public static ResetRequest encodeReset(long[] seeds, Map<String, Object> options,
      boolean[] mask) {
    return encodeReset(seeds, null, options, mask);
  }

  /** @param unseeded null, or per lane: true for a lane that draws fresh entropy */
  public static ResetRequest encodeReset(long[] seeds, boolean[] unseeded,
      Map<String, Object> options, boolean[] mask) {
    ResetRequest.Builder b = ResetRequest.newBuilder();
    if (seeds != null) {
      for (long s : seeds) {
        b.addSeeds(s);
      }
    }
    if (unseeded != null) {
      for (int i = 0; i < unseeded.length; i++) {
        if (unseeded[i]) {
          b.addUnseededLanes(i);
        }
      }
    }
    if (options != null && !options.isEmpty()) {
      b.setOptionsJson(Json.toJson(options));
    }
    if (mask != null) {
      b.setMask(TensorCodec.encode(Tensor.ofBool(new int[] {mask.length}, mask)));
    }
    return b.build();
  }

  /**
   * Decodes a reset request for {@code n} lanes.
   *
   * @throws IllegalArgumentException for a wrong seed count, unseeded lanes without one seed
   *     per lane or out of order, options that are not a JSON object or a mask that is not
   *     BOOL [n]
   */
  public static Reset decodeReset(ResetRequest r, int n) {
    long[] seeds = r.getSeedsList().stream().mapToLong(Long::longValue).toArray();
    if (seeds.length > 1 && seeds.length != n) {
      throw new IllegalArgumentException("reset.seeds: expected 0, 1 or " + n + " seeds, got "
          + seeds.length);
    }
    boolean[] unseeded = null;
    if (r.getUnseededLanesCount() > 0) {
      if (seeds.length != n) {
        throw new IllegalArgumentException("reset.unseeded_lanes: expected only with one seed "
            + "per lane (" + n + "), got " + seeds.length + " seeds");
      }
      unseeded = new boolean[n];
      int previous = -1;
      for (int lane : r.getUnseededLanesList()) {
        if (lane <= previous || lane >= n) {
          throw new IllegalArgumentException("reset.unseeded_lanes: expected ascending lanes in "
              + "[0, " + n + "), got " + r.getUnseededLanesList());
        }
        unseeded[lane] = true;
        previous = lane;
      }
    }
    Map<String, Object> options = Json.parseObject(r.getOptionsJson(), "reset.options_json");
    boolean[] mask = null;
    if (r.hasMask()) {
      Tensor m = TensorCodec.decode(r.getMask(), "reset.mask");
      if (m.dtype() != DType.BOOL || m.rank() != 1 || m.dim(0) != n) {
        throw new IllegalArgumentException("reset.mask: expected bool[" + n + "], got "
            + m.dtype().numpyName() + Arrays.toString(m.shape()));
      }
      mask = new boolean[n];
      for (int i = 0; i < n; i++) {
        mask[i] = m.getBoolean(i);
      }
    }
    return new Reset(seeds, unseeded, options, mask);
  }

  public static ResetResult encode(VectorResetResult r) {
    ResetResult.Builder b = ResetResult.newBuilder()
        .setObservations(ValueCodec.encode(r.observations()));
    r.info().forEach((k, v) -> b.putInfo(k, TensorCodec.encode(v)));
    return b.build();
  }

  public static StepResult encode(VectorStepResult r) {
    int n = r.rewards().length;
    StepResult.Builder b = StepResult.newBuilder()
        .setObservations(ValueCodec.encode(r.observations()))
        .setRewards(TensorCodec.encode(Tensor.ofFloat64(new int[] {n}, r.rewards())))
        .setTerminated(TensorCodec.encode(Tensor.ofBool(new int[] {n}, r.terminated())))
        .setTruncated(TensorCodec.encode(Tensor.ofBool(new int[] {n}, r.truncated())));
    for (int lane : r.endedLanes()) {
      b.addEndedLanes(lane);
    }
    if (r.finalObservations() != null) {
      b.setFinalObservations(ValueCodec.encode(r.finalObservations()));
    }
    r.info().forEach((k, v) -> b.putInfo(k, TensorCodec.encode(v)));
    r.finalInfo().forEach((k, v) -> b.putFinalInfo(k, TensorCodec.encode(v)));
    return b.build();
  }

  /**
   * Decodes a reset result for {@code n} lanes, checking its structure.
   *
   * @param field names the source in errors (e.g. "worker w-1 reset_result")
   */
  public static VectorResetResult decode(ResetResult r, int n, String field) {
    Value obs = decodeBatch(r.hasObservations() ? r.getObservations() : null, n,
        field + ".observations");
    return new VectorResetResult(obs, decodeInfo(r.getInfoMap(), n, field + ".info"));
  }

  /** Decodes a step result for {@code n} lanes, checking its structure. */
  public static VectorStepResult decode(StepResult r, int n, String field) {
    Value obs = decodeBatch(r.hasObservations() ? r.getObservations() : null, n,
        field + ".observations");
    Tensor rewards = vector(r.getRewards(), n, field + ".rewards");
    Tensor terminated = vector(r.getTerminated(), n, field + ".terminated");
    Tensor truncated = vector(r.getTruncated(), n, field + ".truncated");
    if (terminated.dtype() != DType.BOOL || truncated.dtype() != DType.BOOL) {
      throw new IllegalArgumentException(field + ".terminated/truncated: expected bool, got "
          + terminated.dtype().numpyName() + " and " + truncated.dtype().numpyName());
    }
    double[] rw = rewards.toDoubleArray();
    boolean[] te = new boolean[n];
    boolean[] tr = new boolean[n];
    for (int i = 0; i < n; i++) {
      te[i] = terminated.getBoolean(i);
      tr[i] = truncated.getBoolean(i);
    }
    int[] ended = new int[r.getEndedLanesCount()];
    for (int i = 0; i < ended.length; i++) {
      ended[i] = r.getEndedLanes(i);
      if (ended[i] < 0 || ended[i] >= n || (i > 0 && ended[i] <= ended[i - 1])) {
        throw new IllegalArgumentException(field + ".ended_lanes: expected ascending lanes in "
            + "[0, " + n + "), got " + r.getEndedLanesList());
      }
    }
    Value finalObs = null;
    if (ended.length > 0) {
      finalObs = decodeBatch(r.hasFinalObservations() ? r.getFinalObservations() : null,
          ended.length, field + ".final_observations");
    }
    return new VectorStepResult(obs, rw, te, tr, ended, finalObs,
        decodeInfo(r.getInfoMap(), n, field + ".info"),
        decodeInfo(r.getFinalInfoMap(), n, field + ".final_info"));
  }

  private static Value decodeBatch(io.dsogym.wire.v1.Value v, int n, String field) {
    if (v == null) {
      throw new IllegalArgumentException(field + ": expected a batched value, got none");
    }
    Value value = ValueCodec.decode(v, field);
    int got = Spaces.batchSize(value, field);
    if (got != n) {
      throw new IllegalArgumentException(field + ": expected " + n + " lanes, got " + got);
    }
    return value;
  }

  private static Tensor vector(io.dsogym.wire.v1.Tensor t, int n, String field) {
    Tensor v = TensorCodec.decode(t, field);
    if (v.rank() != 1 || v.dim(0) != n) {
      throw new IllegalArgumentException(field + ": expected shape [" + n + "], got "
          + Arrays.toString(v.shape()));
    }
    return v;
  }

  private static Map<String, Tensor> decodeInfo(Map<String, io.dsogym.wire.v1.Tensor> info,
      int n, String field) {
    if (info.isEmpty()) {
      return Map.of();
    }
    Map<String, Tensor> out = new LinkedHashMap<>();
    info.forEach((k, t) -> out.put(k, TensorCodec.decode(t, field + "." + k)));
    return out;
  }
}
