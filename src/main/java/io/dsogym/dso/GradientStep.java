package io.dsogym.dso;

import io.dsogym.optim.Optimizer;

/**
 * Algorithm 1's update (docs/math.md §3f): one optimizer step along ∇S̃(θ_k), which by Lemma 2 (§4a)
 * is exactly the backward-accumulated gradient estimate.
 */
public final class GradientStep implements PolicyImprovement {
  private final Optimizer optimizer;
  private final double maxGradNorm;
  private double[] grad = new double[0];

  public GradientStep(Optimizer optimizer, double maxGradNorm) {
    this.optimizer = optimizer;
    this.maxGradNorm = maxGradNorm;
  }

  @Override
  public Report improve(Surrogate s, double[] theta, double progress) {
    if (grad.length != theta.length) {
      grad = new double[theta.length];
    }
    s.gradientAtStart(grad);
    double norm = PolicyImprovement.clipNorm(grad, maxGradNorm);
    optimizer.step(theta, grad);
    return new Report(norm, Double.NaN, Double.NaN, "");
  }
}
