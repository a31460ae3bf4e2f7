package io.dsogym.remote;

import io.dsogym.env.DType;
import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.wire.TensorCodec;
import io.dsogym.wire.v1.Trajectory;
import java.util.Arrays;

/**
 * One worker-side-inference chunk as the worker recorded it (the wire {@code Trajectory},
 * decoded and checked): K steps of N lanes, step-major (index {@code k * N + lane}).
 *
 * <p>The k-th step of a lane went from {@code observations[k, lane]} to
 * {@code observations[k + 1, lane]} ({@code lastObservations[lane]} when k = K - 1), except
 * where it ended an episode: then to its final observation ({@code finalObservations[e]} for
 * {@code endedIndices[e] = k * N + lane}) while the next observation is the reset one.
 *
 * @param observations [K, N, *obsShape] in the observation space's dtype
 * @param actions FLOAT64 [K, N, actionDim]: the categorical index, or the unclipped sample
 * @param rewards [K * N]
 * @param endedIndices ascending; exactly the indices where terminated or truncated is set
 * @param finalObservations [endedIndices.length, *obsShape]
 * @param lastObservations [N, *obsShape]: the next chunk's first observations
 * @param policyVersion the version of the PolicyParams that sampled the actions
 * @param envSeconds the worker's wall time inside the env steps
 * @param policySeconds the worker's wall time sampling and recording
 */
public record WorkerTrajectory(int stepsPerLane, int numLanes, Tensor observations,
    Tensor actions, double[] rewards, boolean[] terminated, boolean[] truncated,
    int[] endedIndices, Tensor finalObservations, Tensor lastObservations, long policyVersion,
    double envSeconds, double policySeconds) {

  /**
   * Decodes and checks a trajectory reply to a collect of {@code steps} steps.
   *
   * @param observationSpace the Box of one lane's observation
   * @param actionDim doubles per recorded action
   * @param field names the source in errors (e.g. "worker w-1 trajectory")
   * @throws IllegalArgumentException when the reply does not fit the request
   */
  public static WorkerTrajectory decode(Trajectory t, Space.Box observationSpace, int numLanes,
      int steps, int actionDim, String field) {
    if (t.getStepsPerLane() != steps) {
      throw new IllegalArgumentException(field + ".steps_per_lane: expected " + steps
          + " (the request's), got " + t.getStepsPerLane());
    }
    int n = numLanes;
    int size = steps * n;
    int[] obsShape = observationSpace.shape();
    DType obsType = observationSpace.dtype();
    Tensor obs = tensor(t.getObservations(), obsType, lead(obsShape, steps, n),
        field + ".observations");
    Tensor actions = tensor(t.getActions(), DType.FLOAT64, new int[] {steps, n, actionDim},
        field + ".actions");
    double[] rewards = tensor(t.getRewards(), DType.FLOAT64, new int[] {steps, n},
        field + ".rewards").toDoubleArray();
    boolean[] terminated = flags(t.getTerminated(), steps, n, field + ".terminated");
    boolean[] truncated = flags(t.getTruncated(), steps, n, field + ".truncated");
    int[] ended = new int[t.getEndedIndicesCount()];
    int e = 0;
    for (int i = 0; i < size; i++) {
      if (terminated[i] || truncated[i]) {
        if (e >= ended.length || t.getEndedIndices(e) != i) {
          throw new IllegalArgumentException(field + ".ended_indices: expected exactly the "
              + "indices k*N+lane whose step ended (first missing: " + i + "), got "
              + abbreviate(t.getEndedIndicesList().toString()));
        }
        ended[e++] = i;
      }
    }
    if (e != ended.length) {
      throw new IllegalArgumentException(field + ".ended_indices: expected " + e
          + " indices (the steps flagged terminated or truncated), got " + ended.length);
    }
    Tensor finals = tensor(t.getFinalObservations(), obsType, lead(obsShape, ended.length),
        field + ".final_observations");
    Tensor last = tensor(t.getLastObservations(), obsType, lead(obsShape, n),
        field + ".last_observations");
    return new WorkerTrajectory(steps, n, obs, actions, rewards, terminated, truncated, ended,
        finals, last, t.getPolicyVersion(), t.getEnvSeconds(), t.getPolicySeconds());
  }

  /** Number of transitions, K * N. */
  public int size() {
    return stepsPerLane * numLanes;
  }

  private static int[] lead(int[] inner, int... leading) {
    int[] s = Arrays.copyOf(leading, leading.length + inner.length);
    System.arraycopy(inner, 0, s, leading.length, inner.length);
    return s;
  }

  private static Tensor tensor(io.dsogym.wire.v1.Tensor wire, DType dtype, int[] shape,
      String field) {
    Tensor t = TensorCodec.decode(wire, field);
    if (t.dtype() != dtype || !Arrays.equals(t.shape(), shape)) {
      throw new IllegalArgumentException(field + ": expected " + dtype.numpyName()
          + Arrays.toString(shape) + ", got " + t.dtype().numpyName()
          + Arrays.toString(t.shape()));
    }
    return t;
  }

  private static boolean[] flags(io.dsogym.wire.v1.Tensor wire, int steps, int n,
      String field) {
    Tensor t = tensor(wire, DType.BOOL, new int[] {steps, n}, field);
    boolean[] out = new boolean[steps * n];
    for (int i = 0; i < out.length; i++) {
      out[i] = t.getBoolean(i);
    }
    return out;
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }
}
