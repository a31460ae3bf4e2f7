package io.dsogym.collect;

import io.dsogym.chain.TrajectoryBatch;

/**
 * An env (a worker's lanes, or Java-native ones) produced a NaN or infinite reward, observation
 * or action. Refused where it enters collection, before it can reach V̂, the weights or θ; the
 * message names the lanes' host, the lane, the step and the field.
 */
public final class NonFiniteValueException extends RuntimeException {
  private final String field;
  private final int lane;

  private NonFiniteValueException(String message, String field, int lane) {
    super(message);
    this.field = field;
    this.lane = lane;
  }

  /** "reward", "observation[j]", "next observation[j]", "final observation[j]", "action[j]". */
  public String field() {
    return field;
  }

  public int lane() {
    return lane;
  }

  /**
   * Throws for the first non-finite value of a collected batch (row by row: the observation,
   * the action, the reward, then the observation the step led to).
   *
   * @param source names the lanes' host, e.g. {@code "worker w-1 (host:pid, Pendulum-v1 x 8)"}
   */
  public static void requireFinite(TrajectoryBatch b, String source) {
    int d = b.obsDim;
    int a = b.actionDim;
    for (int i = 0; i < b.size(); i++) {
      int lane = i % b.numLanes;
      int step = i / b.numLanes;
      requireFinite(b.obs, i * d, d, "observation", source, lane, step);
      requireFinite(b.actions, i * a, a, "action", source, lane, step);
      requireFinite(-b.cost[i], "reward", source, lane, step);
      requireFinite(b.nextObs, i * d, d, b.ended(i) ? "final observation" : "next observation",
          source, lane, step);
    }
  }

  /** Throws unless {@code value} is finite. */
  public static void requireFinite(double value, String field, String source, int lane,
      int step) {
    if (!Double.isFinite(value)) {
      throw new NonFiniteValueException(source + " returned a non-finite " + field + ": lane "
          + lane + ", step " + step + ": expected a finite number, got " + value, field, lane);
    }
  }

  /** Throws unless {@code values[off .. off + len)} are finite; the field is named "field[j]". */
  public static void requireFinite(double[] values, int off, int len, String field,
      String source, int lane, int step) {
    for (int j = 0; j < len; j++) {
      if (!Double.isFinite(values[off + j])) {  // the name is built only for the error
        requireFinite(values[off + j], field + "[" + j + "]", source, lane, step);
      }
    }
  }
}
