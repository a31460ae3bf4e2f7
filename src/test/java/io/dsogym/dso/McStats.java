package io.dsogym.dso;

import io.dsogym.chain.Chain;
import io.dsogym.oracle.ChainRollouts;
import java.util.function.ToDoubleFunction;

/**
 * Summary of independent per-rollout (or per-block) gradient estimates: their mean is the
 * Monte-Carlo estimate, SE_j = sd_j/√N per component, and the per-rollout variance is the trace
 * of their covariance (Σ_j sd_j²), the figure the baseline comparisons quote.
 */
final class McStats {
  final int count;
  final double[] mean;
  final double[] standardError;
  final double perRolloutVariance;

  private McStats(int count, double[] mean, double[] standardError, double perRolloutVariance) {
    this.count = count;
    this.mean = mean;
    this.standardError = standardError;
    this.perRolloutVariance = perRolloutVariance;
  }

  /** Statistics of {@code scale · perRollout[n]}. */
  static McStats of(double[][] perRollout, double scale) {
    int n = perRollout.length;
    int k = perRollout[0].length;
    double[] mean = new double[k];
    for (double[] g : perRollout) {
      for (int j = 0; j < k; j++) {
        mean[j] += scale * g[j] / n;
      }
    }
    double[] se = new double[k];
    double total = 0;
    for (int j = 0; j < k; j++) {
      double ss = 0;
      for (double[] g : perRollout) {
        double d = scale * g[j] - mean[j];
        ss += d * d;
      }
      double var = ss / (n - 1);
      total += var;
      se[j] = Math.sqrt(var / n);
    }
    return new McStats(n, mean, se, total);
  }

  static McStats of(double[][] perRollout) {
    return of(perRollout, 1.0);
  }

  /** max_j |mean_j - exact_j| / SE_j. */
  double maxAbsZ(double[] exact) {
    double z = 0;
    for (int j = 0; j < exact.length; j++) {
      z = Math.max(z, Math.abs(mean[j] - exact[j]) / standardError[j]);
    }
    return z;
  }

  /** ‖mean - exact‖₂ / ‖exact‖₂ (Euclidean norms over θ's components). */
  double relativeError(double[] exact) {
    double num = 0;
    double den = 0;
    for (int j = 0; j < exact.length; j++) {
      num += (mean[j] - exact[j]) * (mean[j] - exact[j]);
      den += exact[j] * exact[j];
    }
    return Math.sqrt(num / den);
  }

  /** ‖SE‖₂ / ‖exact‖₂: the relative error one standard error amounts to. */
  double relativeStandardError(double[] exact) {
    double num = 0;
    double den = 0;
    for (int j = 0; j < exact.length; j++) {
      num += standardError[j] * standardError[j];
      den += exact[j] * exact[j];
    }
    return Math.sqrt(num / den);
  }

  String describe(double[] exact) {
    return String.format("N=%d rel.err %.2f%% (rel. SE %.2f%%), max|z| %.2f, per-rollout var %.4g",
        count, 100 * relativeError(exact), 100 * relativeStandardError(exact), maxAbsZ(exact),
        perRolloutVariance);
  }

  /**
   * Algorithm 1 on recorded rollouts: V̂(x_i) from {@code baseline}, V̂(x'_i) from
   * {@code bootstrap} (with λ = 1 only read where a lane is cut), the score weights from
   * {@link Algorithm1#weights}, and the per-lane sums of w_i·score + κ_i·∇L.
   */
  static <S> double[][] algorithm1(ChainRollouts<S> r, Chain<S> chain, double[] theta,
      ToDoubleFunction<S> baseline, ToDoubleFunction<S> bootstrap, Algorithm1.Options options,
      double averageCost) {
    int n = r.batch.size();
    double[] value = new double[n];
    double[] nextValue = new double[n];
    double[] unused = new double[n];
    r.values(baseline, value, unused);
    r.values(bootstrap, unused, nextValue);
    double[] weights = new double[n];
    double[] targets = new double[n];
    Algorithm1.weights(r.batch, value, nextValue, options, averageCost, weights, targets);
    return r.laneGradients(chain, theta, weights, options);
  }

  static <S> double[][] algorithm1(ChainRollouts<S> r, Chain<S> chain, double[] theta,
      ToDoubleFunction<S> valueEstimate, Algorithm1.Options options) {
    return algorithm1(r, chain, theta, valueEstimate, valueEstimate, options, 0.0);
  }
}
