package io.dsogym.oracle;

/** How a policy-plus-environment chain computes ∇θ ln P(x'|x,θ) (docs/math.md §2c). */
public enum ScoreRoute {
  /** Route 1: the exact score of the marginal chain (needs the environment model). */
  EXACT_MARGINAL,
  /** Route 2: the score of the sampled action, ∇θ ln π(a|x,θ), unbiased given (x, x'). */
  SAMPLED_ACTION
}
