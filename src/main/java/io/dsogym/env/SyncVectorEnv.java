package io.dsogym.env;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * N {@link Env} lanes stepped one after another in the calling thread
 * (gymnasium.vector.SyncVectorEnv), with any {@link AutoresetMode}.
 *
 * <p>Every request is validated as a whole before any lane moves, so a rejected reset or step
 * leaves every lane as it was.
 */
public final class SyncVectorEnv implements VectorEnv {
  private final List<Env> lanes;
  private final EnvSpec spec;
  private final AutoresetMode mode;
  private final Value[] lastObs;
  private final LaneBook book;
  /** Whether every lane clips its actions, so out-of-bounds Box values are valid. */
  private final boolean clipsActions;

  public SyncVectorEnv(List<? extends Env> lanes, AutoresetMode mode) {
    if (lanes.isEmpty()) {
      throw new IllegalArgumentException("lanes: expected at least one env, got none");
    }
    this.lanes = List.copyOf(lanes);
    this.spec = lanes.get(0).spec();
    this.mode = mode;
    this.lastObs = new Value[lanes.size()];
    this.book = new LaneBook(lanes.size(), mode);
    this.clipsActions = this.lanes.stream().allMatch(Env::clipsActions);
  }

  /** The lanes, in order (a run that sets their parameters reaches them here). */
  public List<Env> lanes() {
    return lanes;
  }

  @Override
  public EnvSpec spec() {
    return spec;
  }

  @Override
  public int numEnvs() {
    return lanes.size();
  }

  @Override
  public AutoresetMode autoresetMode() {
    return mode;
  }

  @Override
  public VectorResetResult reset(long[] seeds, Map<String, Object> options, boolean[] mask) {
    return reset(seeds, null, options, mask);
  }

  @Override
  public VectorResetResult reset(long[] seeds, boolean[] unseeded, Map<String, Object> options,
      boolean[] mask) {
    int n = lanes.size();
    book.checkReset(seeds, mask);
    if (unseeded != null && (unseeded.length != n || seeds == null || seeds.length != n)) {
      throw new IllegalArgumentException("unseeded: expected " + n + " flags with " + n
          + " seeds, got " + unseeded.length + " with " + (seeds == null ? 0 : seeds.length));
    }
    List<Map<String, Tensor>> infos = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      if (mask != null && !mask[i]) {
        infos.add(Map.of());
        continue;
      }
      Long seed = seeds == null || seeds.length == 0 || (unseeded != null && unseeded[i]) ? null
          : seeds.length == 1 ? Long.valueOf(seeds[0] + i) : Long.valueOf(seeds[i]);
      Env.ResetResult r = lanes.get(i).reset(seed, options == null ? Map.of() : options);
      lastObs[i] = r.observation();
      infos.add(r.info());
    }
    book.recordReset(mask);
    return new VectorResetResult(Spaces.stack(Arrays.asList(lastObs)), mergeInfos(infos));
  }

  @Override
  public VectorStepResult step(Value actions) {
    int n = lanes.size();
    book.checkStep(spec.actionSpace(), actions, clipsActions);

    double[] rewards = new double[n];
    boolean[] terminated = new boolean[n];
    boolean[] truncated = new boolean[n];
    List<Map<String, Tensor>> infos = new ArrayList<>(n);
    List<Integer> endedLanes = new ArrayList<>();
    List<Value> finalObs = new ArrayList<>();
    List<Map<String, Tensor>> finalInfos = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      finalInfos.add(Map.of());
      Env lane = lanes.get(i);
      if (mode == AutoresetMode.NEXT_STEP && book.ended(i)) {
        Env.ResetResult r = lane.reset(null, Map.of());
        lastObs[i] = r.observation();
        infos.add(r.info());
        continue;
      }
      Env.StepResult s = lane.step(Spaces.lane(actions, i));
      rewards[i] = s.reward();
      terminated[i] = s.terminated();
      truncated[i] = s.truncated();
      infos.add(s.info());
      lastObs[i] = s.observation();
      if ((s.terminated() || s.truncated()) && mode == AutoresetMode.SAME_STEP) {
        endedLanes.add(i);
        finalObs.add(s.observation());
        // as Gymnasium's SAME_STEP: the ended step's info is the final info, the lane's the reset's
        finalInfos.set(i, s.info());
        Env.ResetResult r = lane.reset(null, Map.of());
        lastObs[i] = r.observation();
        infos.set(i, r.info());
      }
    }
    book.recordStep(terminated, truncated);
    return new VectorStepResult(Spaces.stack(Arrays.asList(lastObs)), rewards, terminated,
        truncated, endedLanes.stream().mapToInt(Integer::intValue).toArray(),
        finalObs.isEmpty() ? null : Spaces.stack(finalObs), mergeInfos(infos),
        mergeInfos(finalInfos));
  }

  /**
   * Merges per-lane infos into batched tensors [N, ...] with a BOOL "_key" mask per key, as
   * gymnasium's vector envs do. Lanes without a key hold zeros.
   */
  static Map<String, Tensor> mergeInfos(List<Map<String, Tensor>> infos) {
    Map<String, Tensor> template = new LinkedHashMap<>();
    for (Map<String, Tensor> info : infos) {
      info.forEach(template::putIfAbsent);
    }
    if (template.isEmpty()) {
      return Map.of();
    }
    int n = infos.size();
    Map<String, Tensor> out = new HashMap<>();
    template.forEach((key, t) -> {
      List<Tensor> parts = new ArrayList<>(n);
      boolean[] mask = new boolean[n];
      for (int i = 0; i < n; i++) {
        Tensor v = infos.get(i).get(key);
        mask[i] = v != null;
        parts.add(v != null ? v : Tensor.zeros(t.dtype(), t.shape()));
      }
      out.put(key, (Tensor) Spaces.stack(parts));
      out.put("_" + key, Tensor.ofBool(new int[] {n}, mask));
    });
    return out;
  }

  @Override
  public void close() {
    for (Env lane : lanes) {
      lane.close();
    }
  }
}
