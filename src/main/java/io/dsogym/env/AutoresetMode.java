package io.dsogym.env;

/**
 * How a {@link VectorEnv} restarts lanes whose episode ended (gymnasium.vector.AutoresetMode).
 * See proto/dsogym/v1/env.proto for the exact contract of each mode.
 */
public enum AutoresetMode {
  /** Gymnasium's default: the lane resets on the step after the one that ended it. */
  NEXT_STEP,
  /** The lane resets in the step that ended it; the last observation comes separately. */
  SAME_STEP,
  /** Lanes never reset by themselves; reset them with a mask. */
  DISABLED
}
