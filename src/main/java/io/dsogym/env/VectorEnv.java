package io.dsogym.env;

import java.util.Map;

/**
 * N lanes of one env stepped together (gymnasium.vector.VectorEnv). Java-native envs and
 * remote Python workers both appear as a VectorEnv, so everything above this interface is
 * indifferent to where the env runs.
 */
public interface VectorEnv extends AutoCloseable {
  /** The spec of one lane. */
  EnvSpec spec();

  int numEnvs();

  AutoresetMode autoresetMode();

  /** How errors name these lanes and their host, e.g. "8 lanes of CartPole-v1". */
  default String describe() {
    return numEnvs() + " lanes of " + spec().id();
  }

  /**
   * Resets lanes.
   *
   * @param seeds null or empty: no seeding; one seed s: lane i gets s + i; N seeds: one per lane
   * @param options reset options, may be empty
   * @param mask null: reset every lane; else reset only the lanes marked true
   */
  VectorResetResult reset(long[] seeds, Map<String, Object> options, boolean[] mask);

  /**
   * {@link #reset(long[], Map, boolean[])} where, with one seed per lane, the lanes marked in
   * {@code unseeded} draw fresh entropy (Gymnasium's None in {@code seed=[1, None, 2]}).
   *
   * @param unseeded null (every lane takes its seed), or N flags
   */
  default VectorResetResult reset(long[] seeds, boolean[] unseeded, Map<String, Object> options,
      boolean[] mask) {
    if (unseeded != null) {
      for (boolean u : unseeded) {
        if (u) {
          throw new IllegalArgumentException("reset.unseeded_lanes: " + describe()
              + " seed every lane of a per-lane seed list; expected none, got some");
        }
      }
    }
    return reset(seeds, options, mask);
  }

  default VectorResetResult reset(long[] seeds) {
    return reset(seeds, Map.of(), null);
  }

  /** Steps every lane with batched actions [N, ...]. */
  VectorStepResult step(Value actions);

  /**
   * {@link #step} for a caller that never reads info: the result's info may be empty, which
   * lets an env skip building it (a remote Python worker then steps its lanes without
   * Gymnasium's per-step info dicts). Observations, rewards, flags and final observations are
   * those {@link #step} returns.
   */
  default VectorStepResult stepWithoutInfo(Value actions) {
    return step(actions);
  }

  @Override
  void close();

  /** Batched observations [N, ...] and info tensors [N, ...]. */
  record VectorResetResult(Value observations, Map<String, Tensor> info) {
    public VectorResetResult {
      info = info == null ? Map.of() : info;
    }
  }

  /**
   * One batched step.
   *
   * @param observations batched [N, ...]
   * @param endedLanes SAME_STEP mode: ascending lanes whose episode ended in this step; empty
   *     otherwise
   * @param finalObservations SAME_STEP mode: the last observations of the ended lanes, batched
   *     [endedLanes.length, ...]; null when no lane ended
   */
  record VectorStepResult(Value observations, double[] rewards, boolean[] terminated,
      boolean[] truncated, int[] endedLanes, Value finalObservations, Map<String, Tensor> info,
      Map<String, Tensor> finalInfo) {
    public VectorStepResult {
      info = info == null ? Map.of() : info;
      finalInfo = finalInfo == null ? Map.of() : finalInfo;
      endedLanes = endedLanes == null ? new int[0] : endedLanes;
    }

    /** A step without final info (no lane ended in SAME_STEP mode, or nobody reads info). */
    public VectorStepResult(Value observations, double[] rewards, boolean[] terminated,
        boolean[] truncated, int[] endedLanes, Value finalObservations, Map<String, Tensor> info) {
      this(observations, rewards, terminated, truncated, endedLanes, finalObservations, info,
          Map.of());
    }
  }
}
