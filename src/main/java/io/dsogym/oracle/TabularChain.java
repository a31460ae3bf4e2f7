package io.dsogym.oracle;

import io.dsogym.chain.Chain;

/**
 * A chain on the finite state set {0..n-1} that also exposes its full matrices, which the exact
 * solvers of {@code io.dsogym.dso.exact} need. Rows of terminal states are ignored by the
 * solvers (no transition leaves a terminal state). Returned arrays are fresh per call but may
 * share rows internally: treat them as read-only.
 */
public interface TabularChain extends Chain<Integer> {
  int numStates();

  /** P0[x]. */
  double[] initialDistribution();

  /** P[x][y] = P(y|x,θ). */
  double[][] transitionMatrix(double[] theta);

  /** L[x] = L(x,θ), from {@link #cost}. */
  default double[] costVector(double[] theta) {
    double[] l = new double[numStates()];
    for (int x = 0; x < l.length; x++) {
      l[x] = cost(x, theta);
    }
    return l;
  }

  /** dL[x][k] = ∂L(x,θ)/∂θ_k, from {@link #costGradient}. */
  default double[][] costGradients(double[] theta) {
    double[][] g = new double[numStates()][numParams()];
    for (int x = 0; x < g.length; x++) {
      costGradient(x, theta, 1.0, g[x]);
    }
    return g;
  }

  /** score[x][y][k] = ∂ ln P(y|x,θ)/∂θ_k, 0 where P(y|x,θ) = 0. */
  double[][][] scores(double[] theta);

  /** [x][y][k][l] = ∂² ln P(y|x,θ)/∂θ_k∂θ_l; needed only for the surrogate Hessian (docs/math.md §4f). */
  default double[][][][] scoreHessians(double[] theta) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " has no scoreHessians");
  }

  /** [x][k][l] = ∂² L(x,θ)/∂θ_k∂θ_l; needed only for the surrogate Hessian (docs/math.md §4f). */
  default double[][][] costHessians(double[] theta) {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " has no costHessians");
  }

  /** The terminal set as a mask. */
  default boolean[] terminalMask() {
    boolean[] mask = new boolean[numStates()];
    for (int x = 0; x < mask.length; x++) {
      mask[x] = isTerminal(x);
    }
    return mask;
  }
}
