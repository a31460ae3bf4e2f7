package io.dsogym.oracle;

import io.dsogym.envs.control.LinearQuadraticRegulator;
import io.dsogym.linalg.Shapes;

/**
 * The LQR with an affine Gaussian policy u = K x + k0 + e, e ~ N(0, diag(std²)), discounted,
 * x0 ~ N(0, X0): the closed loop x' = (A + BK) x + B k0 + B e + w, w ~ N(0, W), with step
 * cost xᵀQx + uᵀRu (the −reward of {@link LinearQuadraticRegulator}). J = E Σ_t γ^t (x_tᵀQx_t
 * + u_tᵀRu_t) in closed form.
 *
 * <p>Sign convention: u = +Kx here (the env's action is the policy's output), while
 * {@link LqrChain} / {@link LqrExact} use u = −Kx + e; the same policy has opposite K.
 *
 * <p>The value is V(x) = xᵀPx + pᵀx + c. With A_K = A + BK, Σe = diag(std²) and
 * N = BΣeBᵀ + W (the covariance of x' given x), matching the Bellman equation
 * V(x) = xᵀQx + E(Kx+k0+e)ᵀR(Kx+k0+e) + γ E V(x') term by term:
 * <pre>
 *   P = Q + KᵀRK + γ A_Kᵀ P A_K                                    (discounted Lyapunov equation)
 *   p = (I − γ A_Kᵀ)⁻¹ (2 KᵀR k0 + 2γ A_Kᵀ P B k0)
 *   c = [ k0ᵀR k0 + tr(RΣe) + γ (k0ᵀBᵀPB k0 + tr(PN) + pᵀB k0) ] / (1 − γ)
 *   J = E_{x0~N(0,X0)} V(x0) = tr(P X0) + c
 * </pre>
 * J is finite exactly when these sums converge, which for generic data means √γ·A_K is stable
 * (spectral radius &lt; 1); {@link #objective} returns +Infinity otherwise, also in the
 * degenerate cases where an unstable mode happens to be neither excited nor costed.
 */
public final class AffineLqr {
  private static final int MAX_VALUE_ITERATIONS = 100_000;
  private static final int MAX_HEWER_ITERATIONS = 200;

  private final int nx;
  private final int nu;
  private final double[][] a;
  private final double[][] b;
  private final double[][] q;
  private final double[][] r;
  private final double[][] w;
  private final double[][] x0Cov;

  /**
   * @param a A (n x n)
   * @param b B (n x m)
   * @param q Q (n x n, symmetric positive semidefinite)
   * @param r R (m x m, symmetric positive semidefinite)
   * @param w W (n x n, the process noise covariance, symmetric positive semidefinite)
   * @param x0Cov X0 (n x n, the covariance of the zero-mean Gaussian x0, symmetric PSD)
   * @throws IllegalArgumentException naming the field when a shape or a value is wrong
   */
  public AffineLqr(double[][] a, double[][] b, double[][] q, double[][] r, double[][] w,
      double[][] x0Cov) {
    if (a == null || a.length == 0) {
      throw new IllegalArgumentException("a: expected a square matrix with at least one row, "
          + "got " + (a == null ? "null" : "none"));
    }
    this.nx = a.length;
    if (b == null || b.length != nx || b[0] == null || b[0].length == 0) {
      throw new IllegalArgumentException("b: expected " + nx + " rows of at least one column, "
          + "got " + (b == null ? "null" : b.length + " rows"));
    }
    this.nu = b[0].length;
    Shapes.matrix("a", a, nx, nx);
    Shapes.matrix("b", b, nx, nu);
    Shapes.matrix("q", q, nx, nx);
    Shapes.matrix("r", r, nu, nu);
    Shapes.matrix("w", w, nx, nx);
    Shapes.matrix("x0Cov", x0Cov, nx, nx);
    requireFinite("a", a);
    requireFinite("b", b);
    requirePsd("q", q);
    requirePsd("r", r);
    requirePsd("w", w);
    requirePsd("x0Cov", x0Cov);
    this.a = Mat.copy(a);
    this.b = Mat.copy(b);
    this.q = Mat.copy(q);
    this.r = Mat.copy(r);
    this.w = Mat.copy(w);
    this.x0Cov = Mat.copy(x0Cov);
  }

  /** The matrices of a {@link LinearQuadraticRegulator}, with X0 = x0_std² I. */
  public static AffineLqr of(LinearQuadraticRegulator env) {
    int n = env.stateDim();
    double var = env.getX0Std() * env.getX0Std();
    double[][] x0 = new double[n][n];
    for (int i = 0; i < n; i++) {
      x0[i][i] = var;
    }
    return new AffineLqr(env.getA(), env.getB(), env.getQ(), env.getR(), env.getW(), x0);
  }

  public int stateDim() {
    return nx;
  }

  public int actionDim() {
    return nu;
  }

  /**
   * J = E Σ_t γ^t (x_tᵀQx_t + u_tᵀRu_t) of u = K x + k0 + e, e ~ N(0, diag(std²)), exactly
   * (the closed form of the class comment), or +Infinity when √γ·(A + BK) is not stable.
   *
   * @param gainK K (m x n)
   * @param offset k0 (m)
   * @param actionStd the standard deviation of each action's noise (m, each >= 0)
   * @param gamma 0 &lt; γ &lt; 1
   */
  public double objective(double[][] gainK, double[] offset, double[] actionStd, double gamma) {
    requireGamma(gamma);
    Shapes.matrix("gainK", gainK, nu, nx);
    requireFinite("gainK", gainK);
    Shapes.length("offset", offset, nu);
    Shapes.length("actionStd", actionStd, nu);
    for (int i = 0; i < nu; i++) {
      if (!Double.isFinite(offset[i])) {
        throw new IllegalArgumentException("offset[" + i + "]: expected a finite number, got "
            + offset[i]);
      }
      if (!(actionStd[i] >= 0) || !Double.isFinite(actionStd[i])) {
        throw new IllegalArgumentException("actionStd[" + i + "]: expected a finite number "
            + ">= 0, got " + actionStd[i]);
      }
    }
    double[][] ak = Mat.add(a, Mat.mul(b, gainK));
    if (!(Math.sqrt(gamma) * Mat.spectralRadius(ak) < 1)) {
      return Double.POSITIVE_INFINITY;
    }
    double[][] kt = Mat.transpose(gainK);
    double[][] akt = Mat.transpose(ak);
    double[][] p = LqrExact.lyapunov(akt, gamma, Mat.add(q, Mat.mul(kt, Mat.mul(r, gainK))));
    // N = B Σe Bᵀ + W
    double[][] noise = Mat.copy(w);
    double trRSigma = 0;
    for (int i = 0; i < nu; i++) {
      double var = actionStd[i] * actionStd[i];
      trRSigma += r[i][i] * var;
      for (int s = 0; s < nx; s++) {
        for (int t = 0; t < nx; t++) {
          noise[s][t] += b[s][i] * var * b[t][i];
        }
      }
    }
    double[] bk0 = Mat.mul(b, offset);
    double[] pbk0 = Mat.mul(p, bk0);
    // p = (I - γA_Kᵀ)⁻¹ (2KᵀRk0 + 2γA_KᵀPBk0)
    double[] rk0 = Mat.mul(r, offset);
    double[] ktrk0 = Mat.mul(kt, rk0);
    double[] akpbk0 = Mat.mul(akt, pbk0);
    double[] rhs = new double[nx];
    for (int i = 0; i < nx; i++) {
      rhs[i] = 2 * ktrk0[i] + 2 * gamma * akpbk0[i];
    }
    double[] lin = Lin.solve(Lin.lu("I - γA_Kᵀ", Mat.combine(1, Mat.identity(nx), -gamma, akt)),
        rhs);
    double k0rk0 = 0;
    for (int i = 0; i < nu; i++) {
      k0rk0 += offset[i] * rk0[i];
    }
    double bk0pbk0 = 0;
    double linBk0 = 0;
    for (int i = 0; i < nx; i++) {
      bk0pbk0 += bk0[i] * pbk0[i];
      linBk0 += lin[i] * bk0[i];
    }
    double c = (k0rk0 + trRSigma
        + gamma * (bk0pbk0 + Mat.traceOfProduct(p, noise) + linBk0)) / (1 - gamma);
    return Mat.traceOfProduct(p, x0Cov) + c;
  }

  /**
   * The optimum over all policies: the discounted Riccati solution
   * P = Q + γAᵀPA − γ²AᵀPB(R + γBᵀPB)⁻¹BᵀPA with zero action noise (the deterministic optimal
   * linear feedback u = K*x, certainty equivalence: the process noise does not change K*),
   * J* = tr(P X0) + γ tr(P W)/(1 − γ). Needs (√γA, B) stabilizable, R + γBᵀPB invertible and
   * (√γA, Q^½) detectable, so that the stabilizing solution is the minimal one.
   */
  public double optimalObjective(double gamma) {
    double[][] p = riccati(gamma).value;
    return Mat.traceOfProduct(p, x0Cov) + gamma * Mat.traceOfProduct(p, w) / (1 - gamma);
  }

  /** K* (m x n) of the optimal feedback u = K*x: K* = −γ(R + γBᵀPB)⁻¹BᵀPA. */
  public double[][] optimalGain(double gamma) {
    return riccati(gamma).gain;
  }

  private record Riccati(double[][] value, double[][] gain) {}

  /**
   * The stabilizing Riccati solution: value iteration from P = Q until its greedy gain
   * stabilizes √γ(A + BK) (at once when K = 0 already does), then Hewer's policy iteration
   * (each step one Lyapunov solve, quadratic convergence) until the gain stops moving.
   */
  private Riccati riccati(double gamma) {
    requireGamma(gamma);
    double[][] k = new double[nu][nx];
    if (!stable(k, gamma)) {
      double[][] p = Mat.copy(q);
      boolean found = false;
      for (int i = 0; i < MAX_VALUE_ITERATIONS && !found; i++) {
        k = greedyGain(p, gamma);
        found = stable(k, gamma);
        if (!found) {
          // P ← Q + γAᵀPA + γAᵀPBK (the Riccati map at the greedy K)
          double[][] atp = Mat.mul(Mat.transpose(a), p);
          p = Mat.add(q, Mat.combine(gamma, Mat.mul(atp, a), gamma,
              Mat.mul(Mat.mul(atp, b), k)));
          if (!(Mat.maxAbs(p) < 1e300)) {
            break;
          }
        }
      }
      if (!found) {
        throw new IllegalStateException("optimalGain: expected (sqrt(gamma)·A, B) to be "
            + "stabilizable, got no stabilizing gain from Riccati value iteration (gamma = "
            + gamma + ")");
      }
    }
    double[][] p = null;
    double previousChange = Double.POSITIVE_INFINITY;
    for (int i = 0; i < MAX_HEWER_ITERATIONS; i++) {
      double[][] ak = Mat.add(a, Mat.mul(b, k));
      p = LqrExact.lyapunov(Mat.transpose(ak), gamma,
          Mat.add(q, Mat.mul(Mat.transpose(k), Mat.mul(r, k))));
      double[][] next = greedyGain(p, gamma);
      double change = Mat.maxAbs(Mat.combine(1, next, -1, k)) / Math.max(1, Mat.maxAbs(next));
      k = next;
      if (!stable(k, gamma)) {
        throw new IllegalStateException("optimalGain: Hewer's iteration left the stabilizing "
            + "gains (check that Q, R are PSD and (sqrt(gamma)·A, Q^1/2) is detectable)");
      }
      // quadratic convergence: stop at round-off, or when round-off stops the decrease
      if (change <= 1e-15 || (change < 1e-10 && change >= previousChange)) {
        break;
      }
      previousChange = change;
    }
    return new Riccati(p, k);
  }

  /** K = −γ(R + γBᵀPB)⁻¹BᵀPA. */
  private double[][] greedyGain(double[][] p, double gamma) {
    double[][] bt = Mat.transpose(b);
    double[][] btp = Mat.mul(bt, p);
    double[][] g = Mat.combine(1, r, gamma, Mat.mul(btp, b));
    double[][] rhs = Mat.combine(-gamma, Mat.mul(btp, a), 0, new double[nu][nx]);
    return Lin.solve(Lin.lu("R + γBᵀPB", g), rhs);
  }

  private boolean stable(double[][] k, double gamma) {
    return Math.sqrt(gamma) * Mat.spectralRadius(Mat.add(a, Mat.mul(b, k))) < 1;
  }

  private static void requireGamma(double gamma) {
    if (!(gamma > 0 && gamma < 1)) {
      throw new IllegalArgumentException("gamma: expected 0 < gamma < 1, got " + gamma);
    }
  }

  private static void requireFinite(String field, double[][] m) {
    for (int i = 0; i < m.length; i++) {
      for (int j = 0; j < m[i].length; j++) {
        if (!Double.isFinite(m[i][j])) {
          throw new IllegalArgumentException(field + "[" + i + "][" + j + "]: expected a finite "
              + "number, got " + m[i][j]);
        }
      }
    }
  }

  private static void requirePsd(String field, double[][] m) {
    requireFinite(field, m);
    double scale = Math.max(1, Mat.maxAbs(m));
    for (int i = 0; i < m.length; i++) {
      for (int j = 0; j < i; j++) {
        if (Math.abs(m[i][j] - m[j][i]) > 1e-12 * scale) {
          throw new IllegalArgumentException(field + ": expected a symmetric matrix, got ["
              + i + "][" + j + "] = " + m[i][j] + " and [" + j + "][" + i + "] = " + m[j][i]);
        }
      }
    }
    double min = Mat.minSymmetricEigenvalue(m);
    if (min < -1e-12 * scale) {
      throw new IllegalArgumentException(field + ": expected a positive semidefinite matrix, "
          + "got the eigenvalue " + min);
    }
  }
}
