package io.dsogym.env;

import java.util.Arrays;

/**
 * The per-lane bookkeeping every {@link VectorEnv} needs to reject a bad request before any
 * lane moves: which lanes were ever reset, and which ended and still wait for their reset
 * (NEXT_STEP: on the next step; DISABLED: by a masked reset). The native
 * {@link SyncVectorEnv} and the remote, worker-backed env share it, so both give the same
 * errors for the same mistakes.
 */
public final class LaneBook {
  private final int n;
  private final AutoresetMode mode;
  private final boolean[] everReset;
  private final boolean[] ended;

  public LaneBook(int numEnvs, AutoresetMode mode) {
    this.n = numEnvs;
    this.mode = mode;
    this.everReset = new boolean[numEnvs];
    this.ended = new boolean[numEnvs];
  }

  /** Throws when the seeds or the mask of a reset request do not fit the lanes. */
  public void checkReset(long[] seeds, boolean[] mask) {
    if (seeds != null && seeds.length > 1 && seeds.length != n) {
      throw new IllegalArgumentException("seeds: expected 0, 1 or " + n + " seeds, got "
          + seeds.length);
    }
    if (mask == null) {
      return;
    }
    if (mask.length != n) {
      throw new IllegalArgumentException("mask: expected " + n + " elements, got "
          + mask.length);
    }
    for (int i = 0; i < n; i++) {
      if (!mask[i] && !everReset[i]) {
        throw new IllegalArgumentException("mask[" + i + "]: expected true for a lane that "
            + "has never been reset, got false");
      }
    }
  }

  /** Throws when a step may not be taken now, or when the actions are not N actions. */
  public void checkStep(Space actionSpace, Value actions) {
    checkStep(actionSpace, actions, false);
  }

  /**
   * As {@link #checkStep(Space, Value)}; with {@code clipped} the lanes clip their actions
   * ({@link Env#clipsActions}), so finite values outside a Box's bounds pass.
   */
  public void checkStep(Space actionSpace, Value actions, boolean clipped) {
    checkEveryLaneReset("step");
    for (int i = 0; i < n; i++) {
      if (mode == AutoresetMode.DISABLED && ended[i]) {
        throw new IllegalStateException("lane " + i + ": episode ended and autoreset is "
            + "DISABLED; reset it (mask) before stepping");
      }
    }
    if (clipped) {
      actionSpace.checkBatchClipped(actions, n, "actions");
    } else {
      actionSpace.checkBatch(actions, n, "actions");
    }
  }

  /** Throws when some lane was never reset, naming the {@code operation} (e.g. "collect"). */
  public void checkEveryLaneReset(String operation) {
    for (int i = 0; i < n; i++) {
      if (!everReset[i]) {
        throw new IllegalStateException(operation + " called before reset (lane " + i
            + " has never been reset)");
      }
    }
  }

  /** Records a reset of the lanes in {@code mask} (every lane when null). */
  public void recordReset(boolean[] mask) {
    for (int i = 0; i < n; i++) {
      if (mask == null || mask[i]) {
        everReset[i] = true;
        ended[i] = false;
      }
    }
  }

  /**
   * Records a step's flags. A SAME_STEP lane is reset within the step, so it never waits;
   * a NEXT_STEP lane that was reset by this step reports both flags false.
   */
  public void recordStep(boolean[] terminated, boolean[] truncated) {
    if (mode == AutoresetMode.SAME_STEP) {
      return;
    }
    for (int i = 0; i < n; i++) {
      ended[i] = terminated[i] || truncated[i];
    }
  }

  /** Whether lane i ended and has not been reset since. */
  public boolean ended(int i) {
    return ended[i];
  }

  @Override
  public String toString() {
    return "LaneBook(everReset=" + Arrays.toString(everReset) + ", ended="
        + Arrays.toString(ended) + ")";
  }
}
