package io.dsogym.oracle;

import io.dsogym.linalg.Vectors;
import io.dsogym.linalg.Shapes;
import java.util.Arrays;
import org.apache.commons.math3.linear.DecompositionSolver;

/** Exact DSO quantities of tabular chains by linear algebra, one entry point per setting. */
public final class TabularExact {
  private TabularExact() {}

  /**
   * The discounted and/or first-exit setting (docs/math.md §1a, Theorem 1 §3a, §4); γ = 1 needs a
   * terminal set that is reached with probability 1.
   */
  public static DiscountedSolution discounted(TabularChain chain, double gamma, double[] theta) {
    if (!(gamma > 0 && gamma <= 1)) {
      throw new IllegalArgumentException("gamma: expected 0 < gamma <= 1, got " + gamma);
    }
    Shapes.length("theta", theta, chain.numParams());
    return new DiscountedSolution(chain, gamma, theta);
  }

  /** The average-cost setting (docs/math.md §1b, §3b) of an ergodic chain without terminal states. */
  public static AverageCostSolution averageCost(TabularChain chain, double[] theta) {
    Shapes.length("theta", theta, chain.numParams());
    boolean[] terminal = chain.terminalMask();
    for (int x = 0; x < terminal.length; x++) {
      if (terminal[x]) {
        throw new IllegalArgumentException("terminal: expected no terminal state in the average-"
            + "cost setting, got state " + x);
      }
    }
    int n = chain.numStates();
    double[][] p = chain.transitionMatrix(theta);
    double[] l = chain.costVector(theta);
    // d solves (I - Pᵀ)d = 0 and 1ᵀd = 1, i.e. (I - Pᵀ + 11ᵀ) d = 1 (nonsingular when ergodic)
    double[][] a = Lin.identityMinus(1.0, Lin.transpose(p), null);
    for (int x = 0; x < n; x++) {
      for (int y = 0; y < n; y++) {
        a[x][y] += 1;
      }
    }
    double[] ones = new double[n];
    Arrays.fill(ones, 1.0);
    double[] d = Lin.solve(Lin.lu("I - Pᵀ + 11ᵀ", a), ones);
    double j = Vectors.dot(d, l);
    // V solves (I - P)V = L - J (Eq. 8) and dᵀV = 0, i.e. (I - P + 1dᵀ) V = L - J
    double[][] b = Lin.identityMinus(1.0, p, null);
    for (int x = 0; x < n; x++) {
      for (int y = 0; y < n; y++) {
        b[x][y] += d[y];
      }
    }
    double[] rhs = new double[n];
    for (int x = 0; x < n; x++) {
      rhs[x] = l[x] - j;
    }
    double[] v = Lin.solve(Lin.lu("I - P + 1dᵀ", b), rhs);
    // §3b: ∇J = E_d[∇L + E_P[∇ln P V]]
    double[][] dl = chain.costGradients(theta);
    double[][][] s = chain.scores(theta);
    double[][] local = localGradient(1.0, p, null, dl, s, v);
    return new AverageCostSolution(theta.clone(), p, l, d, j, v, Lin.weightedSum(d, local));
  }

  /** The finite-horizon setting (docs/math.md §1c, §3c). */
  public static FiniteHorizonSolution finiteHorizon(TimeIndexedTabularChain chain,
      double[] theta) {
    Shapes.length("theta", theta, chain.numParams());
    int horizon = chain.horizon();
    int n = chain.numStates();
    double[][] values = new double[horizon + 1][];
    values[horizon] = chain.costVector(horizon, theta);
    double[][][] p = new double[horizon][][];
    for (int t = horizon - 1; t >= 0; t--) {
      p[t] = chain.transitionMatrix(t, theta);
      double[] l = chain.costVector(t, theta);
      values[t] = new double[n];
      for (int x = 0; x < n; x++) {
        values[t][x] = l[x] + Vectors.dot(p[t][x], values[t + 1]);
      }
    }
    double[][] marginals = new double[horizon + 1][];
    marginals[0] = chain.initialDistribution();
    double[] grad = new double[chain.numParams()];
    for (int t = 0; t <= horizon; t++) {
      addTo(grad, Lin.weightedSum(marginals[t], chain.costGradients(t, theta)));
      if (t == horizon) {
        break;
      }
      double[][] local = localGradient(1.0, p[t], null, new double[n][chain.numParams()],
          chain.scores(t, theta), values[t + 1]);
      addTo(grad, Lin.weightedSum(marginals[t], local));
      marginals[t + 1] = new double[n];
      for (int x = 0; x < n; x++) {
        for (int y = 0; y < n; y++) {
          marginals[t + 1][y] += marginals[t][x] * p[t][x][y];
        }
      }
    }
    double j = Vectors.dot(marginals[0], values[0]);
    return new FiniteHorizonSolution(theta.clone(), values, marginals, j, grad);
  }

  /**
   * g(x) = ∇L(x) + γ Σ_y P(y|x) ∇ln P(y|x) V(y) (docs/math.md §3a proof, step 1), with no
   * continuation from states in {@code stop}.
   */
  static double[][] localGradient(double gamma, double[][] p, boolean[] stop, double[][] dl,
      double[][][] s, double[] v) {
    int n = p.length;
    int k = dl[0].length;
    double[][] g = new double[n][];
    for (int x = 0; x < n; x++) {
      g[x] = dl[x].clone();
      if (stop != null && stop[x]) {
        continue;
      }
      for (int y = 0; y < n; y++) {
        if (p[x][y] == 0) {
          continue;
        }
        double w = gamma * p[x][y] * v[y];
        for (int i = 0; i < k; i++) {
          g[x][i] += w * s[x][y][i];
        }
      }
    }
    return g;
  }

  static void addTo(double[] acc, double[] v) {
    for (int i = 0; i < acc.length; i++) {
      acc[i] += v[i];
    }
  }

  static DecompositionSolver discountedSolver(double gamma, double[][] p, boolean[] stop) {
    return Lin.lu("I - γP", Lin.identityMinus(gamma, p, stop));
  }
}
