package io.dsogym.oracle;

import io.dsogym.chain.Chain;

/**
 * A finite-horizon chain (docs/math.md §1c) on {0..n-1}: transitions P_t for t = 0..T-1, costs L_t
 * for t = 0..T-1 and the final cost L_T. Its states are (t, x); (T, x) is terminal. Returned
 * arrays are read-only.
 */
public interface TimeIndexedTabularChain extends Chain<TimeIndexedState> {
  int numStates();

  /** T. */
  int horizon();

  double[] initialDistribution();

  /** P_t[x][y], t < T. */
  double[][] transitionMatrix(int t, double[] theta);

  /** L_t[x], t ≤ T. */
  double[] costVector(int t, double[] theta);

  /** ∂L_t(x)/∂θ as [x][k], t ≤ T. */
  double[][] costGradients(int t, double[] theta);

  /** ∂ ln P_t(y|x)/∂θ as [x][y][k], t < T. */
  double[][][] scores(int t, double[] theta);
}
