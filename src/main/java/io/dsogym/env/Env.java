package io.dsogym.env;

import java.util.Map;

/**
 * One environment with Gymnasium 1.x semantics. Implementations take all their randomness
 * from one generator seeded by {@link #reset(Long, Map)}.
 *
 * <p>Contract: {@link #step} before the first {@link #reset} throws
 * {@link IllegalStateException}; an action outside the action space throws
 * {@link IllegalArgumentException} naming the field and leaves the state unchanged (an env
 * that {@link #clipsActions clips} takes finite out-of-bounds Box values). The time
 * limit ({@link EnvSpec#maxEpisodeSteps()}) is enforced by the env itself and reported as
 * {@code truncated}.
 */
public interface Env extends AutoCloseable {
  EnvSpec spec();

  /**
   * Starts an episode.
   *
   * @param seed reseeds the env's generator when not null (gymnasium's reset(seed=...))
   * @param options env-specific reset options; may be empty
   */
  ResetResult reset(Long seed, Map<String, Object> options);

  /** Advances one step with an action of the action space. */
  StepResult step(Value action);

  /**
   * Whether {@link #step} clips a Box action into the action space, as the Gymnasium env it
   * mirrors does (Pendulum's {@code np.clip}), so that finite values outside the bounds are
   * valid actions ({@link Space#checkClipped}); non-finite ones never are.
   */
  default boolean clipsActions() {
    return false;
  }

  @Override
  default void close() {}

  /** Result of {@link Env#reset}. */
  record ResetResult(Value observation, Map<String, Tensor> info) {
    public ResetResult {
      info = info == null ? Map.of() : info;
    }
  }

  /** Result of {@link Env#step}: terminated and truncated are kept apart. */
  record StepResult(Value observation, double reward, boolean terminated, boolean truncated,
      Map<String, Tensor> info) {
    public StepResult {
      info = info == null ? Map.of() : info;
    }
  }
}
