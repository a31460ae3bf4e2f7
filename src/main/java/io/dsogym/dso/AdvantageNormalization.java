package io.dsogym.dso;

/**
 * The per-batch advantage normalization of PPO practice, applied so that the update stays the
 * gradient of one objective: the score weights w_i are centred (a constant baseline, which
 * leaves the estimate unbiased because E[∇ln P] = 0) and divided by their standard deviation
 * s, and the state-cost weights κ_i are divided by the same s. The surrogate's gradient is then
 * exactly (1/s)·∇(J + reg) estimated with the centred weights: a step-size change, not a change
 * of the objective. (Dividing only w would weigh the θ-dependent chain costs — entropy, KL,
 * a known chain's L — by s relative to the env's cost, i.e. change β by a batch-dependent
 * factor.)
 */
public final class AdvantageNormalization {
  private AdvantageNormalization() {}

  /**
   * Normalizes {@code weights[0..n)} in place and scales {@code stateWeights[0..n)} by the same
   * factor; returns the standard deviation s that was divided out.
   */
  public static double apply(double[] weights, double[] stateWeights, int n) {
    double mean = 0;
    for (int i = 0; i < n; i++) {
      mean += weights[i];
    }
    mean /= n;
    double var = 0;
    for (int i = 0; i < n; i++) {
      var += (weights[i] - mean) * (weights[i] - mean);
    }
    double std = Math.sqrt(var / n) + 1e-8;
    double inv = 1.0 / std;
    for (int i = 0; i < n; i++) {
      weights[i] = (weights[i] - mean) * inv;
      stateWeights[i] *= inv;
    }
    return std;
  }
}
