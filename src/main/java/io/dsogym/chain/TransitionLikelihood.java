package io.dsogym.chain;

/**
 * The recorded transitions x_i -> x'_i of a batch, seen as functions of θ: ln P(x'_i|x_i,θ) and
 * its score. This is all the surrogate of docs/math.md §4b needs for its importance ratios
 * r_i(θ) = P(x'_i|x_i,θ) / P(x'_i|x_i,θ_k).
 *
 * <p>Two routes, implemented in the layers above (docs/math.md §2c, §4b):
 * {@code collect.PolicyTransitions} uses the sampled action, so ln P is ln π(a_i|x_i,θ) and r_i
 * is the PPO ratio; {@code oracle.ChainTransitions} uses the exact marginal ln P(x'|x,θ) of a
 * known chain.
 */
public interface TransitionLikelihood {
  /** The number of recorded transitions. */
  int size();

  /** The dimension of θ. */
  int numParams();

  /** ln P(x'_i|x_i,θ). */
  double logLikelihood(double[] theta, int i);

  /** grad += weight · ∇θ ln P(x'_i|x_i,θ); returns ln P(x'_i|x_i,θ). */
  double accumulateScore(double[] theta, int i, double weight, double[] grad);

  /**
   * out[k - from] = ln P(x'_i|x_i,θ) for i = index[k], k in [from, to): a minibatch in one
   * call, which a policy network evaluates as matrix products.
   */
  default void logLikelihoods(double[] theta, int[] index, int from, int to, double[] out) {
    for (int k = from; k < to; k++) {
      out[k - from] = logLikelihood(theta, index[k]);
    }
  }

  /**
   * grad += Σ_k weight[k - from] · ∇θ ln P(x'_i|x_i,θ) for i = index[k], k in [from, to);
   * a transition of weight 0 adds nothing (its score is not evaluated).
   */
  default void accumulateScores(double[] theta, int[] index, int from, int to,
      double[] weight, double[] grad) {
    for (int k = from; k < to; k++) {
      if (weight[k - from] != 0) {
        accumulateScore(theta, index[k], weight[k - from], grad);
      }
    }
  }

  /** A transition's score weight given its ln P: the surrogate's ratio term and its clip. */
  @FunctionalInterface
  interface ScoreWeight {
    /** The weight of the score of the transition at place k of the index. */
    double of(int k, double logLikelihood);
  }

  /**
   * logOut[k - from] = ln P(x'_i|x_i,θ) for i = index[k], k in [from, to), then grad +=
   * Σ_k w_k · ∇θ ln P(x'_i|x_i,θ) with w_k = weight.of(k, ln P), called in the order of k: the
   * ratios and the gradient from one evaluation, which a policy network makes in one forward
   * pass instead of two. By default {@link #logLikelihoods} then {@link #accumulateScores}.
   */
  default void accumulateWeightedScores(double[] theta, int[] index, int from, int to,
      ScoreWeight weight, double[] logOut, double[] grad) {
    logLikelihoods(theta, index, from, to, logOut);
    double[] w = new double[to - from];
    for (int k = from; k < to; k++) {
      w[k - from] = weight.of(k, logOut[k - from]);
    }
    accumulateScores(theta, index, from, to, w, grad);
  }
}
