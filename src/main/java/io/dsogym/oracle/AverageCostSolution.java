package io.dsogym.oracle;

/**
 * Exact average-cost quantities (docs/math.md §1b, §3b) at θ: the stationary density d, J = d·L, the
 * differential value V pinned by d·V = 0, and ∇J. Arrays are read-only.
 */
public final class AverageCostSolution {
  public final double[] theta;
  public final double[][] transition;
  public final double[] cost;
  public final double[] stationary;
  public final double objective;
  public final double[] differentialValue;
  public final double[] gradient;

  AverageCostSolution(double[] theta, double[][] transition, double[] cost, double[] stationary,
      double objective, double[] differentialValue, double[] gradient) {
    this.theta = theta;
    this.transition = transition;
    this.cost = cost;
    this.stationary = stationary;
    this.objective = objective;
    this.differentialValue = differentialValue;
    this.gradient = gradient;
  }
}
