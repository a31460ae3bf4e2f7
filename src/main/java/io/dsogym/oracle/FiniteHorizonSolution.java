package io.dsogym.oracle;

/**
 * Exact finite-horizon quantities (docs/math.md §1c, §3c) at θ: V_t for t = 0..T (V_T = L_T), the
 * marginals m_t, J = P0·V_0 and ∇J. Arrays are read-only.
 */
public final class FiniteHorizonSolution {
  public final double[] theta;
  /** [t][x] = V_t(x), t = 0..T. */
  public final double[][] values;
  /** [t][x] = m_t(x), t = 0..T. */
  public final double[][] marginals;
  public final double objective;
  public final double[] gradient;

  FiniteHorizonSolution(double[] theta, double[][] values, double[][] marginals,
      double objective, double[] gradient) {
    this.theta = theta;
    this.values = values;
    this.marginals = marginals;
    this.objective = objective;
    this.gradient = gradient;
  }
}
