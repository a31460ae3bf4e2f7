package io.dsogym.chain;

import java.util.SplittableRandom;

/**
 * A DSO problem (docs/math.md §1, §9): an autonomous Markov chain P(x'|x,θ) and a step cost L(x,θ),
 * both depending on one parameter vector θ. There are no actions; a policy-plus-environment
 * problem is a chain whose step may report the sampled action as a {@linkplain Step#latent()
 * latent}, so that {@link #score} can use the sampled-action score of docs/math.md §2c route 2.
 *
 * <p>Terminal states follow docs/math.md §1a's terminal convention: V(x) = L(x) on the terminal set
 * (a final cost, then stop); {@link #step} is never called on a terminal state.
 *
 * @param <S> the state type
 */
public interface Chain<S> {
  /** One sampled transition: the next state and, optionally, the latent that produced it. */
  record Step<S>(S next, double[] latent) {}

  /** The dimension of θ. */
  int numParams();

  /** x₀ ~ P0, independent of θ (docs/math.md §1a). */
  S sampleInitial(SplittableRandom rng);

  /** x' ~ P(·|x,θ); {@code latent} may be null when the chain has none. */
  Step<S> step(S x, double[] theta, SplittableRandom rng);

  /**
   * Adds {@code weight · ∇θ ln P(x'|x,θ)} to {@code gradAccum}, or an unbiased surrogate of it
   * built from {@code latent} (docs/math.md §2c route 2: E[surrogate | x, x'] = ∇θ ln P(x'|x,θ)).
   */
  void score(S x, S next, double[] latent, double[] theta, double weight, double[] gradAccum);

  /** L(x,θ); on a terminal state, the final cost. */
  double cost(S x, double[] theta);

  /** Adds {@code weight · ∇θ L(x,θ)} to {@code gradAccum}. */
  void costGradient(S x, double[] theta, double weight, double[] gradAccum);

  boolean isTerminal(S x);

  /** ln P(x'|x,θ), for likelihood ratios (docs/math.md §4b); optional. */
  default double logProb(S x, S next, double[] theta) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " has no logProb");
  }
}
