package io.dsogym.oracle;

import io.dsogym.linalg.Shapes;
import io.dsogym.linalg.Vectors;

/**
 * Exact first-exit LMDP quantities (docs/math.md §2g, §5): the desirability z, the optimal chain u*
 * and its value -ln z; and the gradient of J for a parametric controlled chain U(·|·,θ) in the
 * form of §2g.
 */
public final class LmdpExact {
  private LmdpExact() {}

  /** The optimum of a first-exit LMDP. Arrays are read-only. */
  public static final class Optimum {
    /** z(x) = exp(-V*(x)). */
    public final double[] desirability;
    /** V* = -ln z. */
    public final double[] optimalValue;
    /** [x][y] = u*(y|x) = p(y|x) z(y) / Σ_y' p(y'|x) z(y') (terminal rows: p). */
    public final double[][] optimalChain;

    private Optimum(double[] desirability, double[] optimalValue, double[][] optimalChain) {
      this.desirability = desirability;
      this.optimalValue = optimalValue;
      this.optimalChain = optimalChain;
    }
  }

  /**
   * Solves the linear equation of docs/math.md §5: z = e^{-q} on the terminal set 𝒯 and
   * z(x) = e^{-q(x)} Σ_y p(y|x) z(y) off it, i.e. (I - diag(e^{-q}) p_NN) z_N =
   * diag(e^{-q}) p_N𝒯 z_𝒯.
   */
  public static Optimum optimal(LmdpChain lmdp) {
    int n = lmdp.numStates();
    double[][] p = lmdp.passive();
    double[] q = lmdp.stateCosts();
    boolean[] terminal = lmdp.terminalMask();
    // one n×n system: terminal rows are the identity with right-hand side e^{-q}
    double[][] a = new double[n][n];
    double[] rhs = new double[n];
    for (int x = 0; x < n; x++) {
      a[x][x] = 1;
      if (terminal[x]) {
        rhs[x] = Math.exp(-q[x]);
        continue;
      }
      for (int y = 0; y < n; y++) {
        a[x][y] -= Math.exp(-q[x]) * p[x][y];
      }
    }
    double[] z = Lin.solve(Lin.lu("I - diag(e^{-q}) p", a), rhs);
    double[] v = new double[n];
    for (int x = 0; x < n; x++) {
      v[x] = -Math.log(z[x]);
    }
    double[][] u = chainOf(lmdp, z);
    return new Optimum(z, v, u);
  }

  /**
   * The chain u(y|x) = p(y|x) z(y) / Σ_y' p(y'|x) z(y') of a desirability z > 0 (terminal rows:
   * p): u* for the exact z (docs/math.md §5), the chain a Z-learned ẑ stands for otherwise.
   */
  public static double[][] chainOf(LmdpChain lmdp, double[] z) {
    int n = lmdp.numStates();
    Shapes.length("z", z, n);
    double[][] p = lmdp.passive();
    boolean[] terminal = lmdp.terminalMask();
    double[][] u = new double[n][n];
    for (int x = 0; x < n; x++) {
      double norm = terminal[x] ? 1 : Vectors.dot(p[x], z);
      if (!(norm > 0) || Double.isInfinite(norm)) {
        throw new IllegalArgumentException("z: expected Σ_y p(y|" + x + ") z(y) finite and > 0, "
            + "got " + norm);
      }
      for (int y = 0; y < n; y++) {
        u[x][y] = terminal[x] ? p[x][y] : p[x][y] * z[y] / norm;
      }
    }
    return u;
  }

  /**
   * ∇J = E_{x~ρ} E_{x'~U}[∇ln U(x'|x) (ln U(x'|x)/p(x'|x) + γV(x'))] (docs/math.md §2g), which folds
   * ∇KL into the score term; equal to Theorem 1's form.
   */
  public static double[] gradient(LmdpChain lmdp, double gamma, double[] theta) {
    DiscountedSolution s = TabularExact.discounted(lmdp, gamma, theta);
    double[][] p = lmdp.passive();
    int n = lmdp.numStates();
    double[] g = new double[theta.length];
    for (int x = 0; x < n; x++) {
      if (s.terminal[x]) {
        continue;
      }
      for (int y = 0; y < n; y++) {
        double u = s.transition[x][y];
        if (u == 0) {
          continue;
        }
        double w = s.visitation[x] * u * (Math.log(u / p[x][y]) + gamma * s.value[y]);
        for (int i = 0; i < g.length; i++) {
          g[i] += w * s.score[x][y][i];
        }
      }
    }
    return g;
  }
}
