package io.dsogym.oracle;

import io.dsogym.linalg.Vectors;
import io.dsogym.linalg.Shapes;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;

/**
 * Closed-form discounted LQR under a linear Gaussian policy ({@link LqrChain}; the oracle case
 * lqr3x2_discounted). With A_K = A - BK, Σu = diag(exp(2 log_std)), N = BΣuBᵀ + W:
 *
 * <pre>
 *   P = Q + KᵀRK + γ A_Kᵀ P A_K                    (value matrix: Bellman, docs/math.md §1a Eq. 3)
 *   V(x) = xᵀPx + c₀,  c₀ = (tr(RΣu) + γ tr(PN)) / (1-γ)
 *   J = E_{x~N(0,X0)} V(x) = tr(P X0) + c₀
 *   Σ = X0 + γ (A_K Σ A_Kᵀ + N/(1-γ))              (discounted second moment Σ_t γ^t E[x_t x_tᵀ])
 *   ∇_K J = 2 ((R + γBᵀPB) K - γBᵀPA) Σ
 *   ∂J/∂log_std_i = 2σ_i² (R_ii + γ (BᵀPB)_ii) / (1-γ)
 * </pre>
 * Derivation of ∇_K: J = tr((Q + KᵀRK) Σ) + tr(RΣu)/(1-γ); differentiating the Σ equation and
 * using P as its adjoint, tr((Q + KᵀRK) dΣ) = 2γ tr(A_Kᵀ P dA_K Σ) with dA_K = -B dK, and
 * tr(d(KᵀRK) Σ) = 2 tr(KᵀR dK Σ); collect the terms. ∂/∂log_std: only c₀ depends on Σu, and
 * ∂Σu/∂log_std_i = 2σ_i² e_i e_iᵀ. Both are checked by finite differences in the tests.
 */
public final class LqrExact {
  private LqrExact() {}

  /** The closed-form solution at θ. Arrays are read-only. */
  public static final class Solution {
    public final double objective;
    /** [nu][nx] = ∂J/∂K. */
    public final double[][] gradientK;
    /** [nu] = ∂J/∂log_std. */
    public final double[] gradientLogStd;
    /** P, with V(x) = xᵀPx + c₀. */
    public final double[][] valueMatrix;
    /** c₀. */
    public final double valueOffset;
    /** Σ = Σ_t γ^t E[x_t x_tᵀ]. */
    public final double[][] discountedSecondMoment;

    private Solution(double objective, double[][] gradientK, double[] gradientLogStd,
        double[][] valueMatrix, double valueOffset, double[][] discountedSecondMoment) {
      this.objective = objective;
      this.gradientK = gradientK;
      this.gradientLogStd = gradientLogStd;
      this.valueMatrix = valueMatrix;
      this.valueOffset = valueOffset;
      this.discountedSecondMoment = discountedSecondMoment;
    }

    /** V(x) = xᵀPx + c₀. */
    public double value(double[] x) {
      return quadratic(valueMatrix, x) + valueOffset;
    }

    /** ∇J in θ's layout ({@link LqrChain#pack}). */
    public double[] gradient() {
      return LqrChain.pack(gradientK, gradientLogStd);
    }
  }

  public static Solution solve(LqrChain lqr, double gamma, double[] theta) {
    if (!(gamma > 0 && gamma < 1)) {
      throw new IllegalArgumentException("gamma: expected 0 < gamma < 1, got " + gamma);
    }
    Shapes.length("theta", theta, lqr.numParams());
    int nx = lqr.stateDim();
    int nu = lqr.actionDim();
    double[][] a = lqr.a();
    double[][] b = lqr.b();
    double[][] r = lqr.r();
    double[][] k = lqr.gain(theta);
    double[] ls = lqr.logStd(theta);
    double[] var = new double[nu];
    for (int i = 0; i < nu; i++) {
      var[i] = Math.exp(2 * ls[i]);
    }
    double[][] ak = sub(a, mul(b, k));
    double radius = spectralRadius(ak) * Math.sqrt(gamma);
    if (!(radius < 1)) {
      throw new IllegalArgumentException("K: expected sqrt(gamma)·(A - BK) to be stable "
          + "(spectral radius < 1), got " + radius);
    }
    double[][] qk = add(lqr.q(), mul(transpose(k), mul(r, k)));
    double[][] p = lyapunov(transpose(ak), gamma, qk);
    double[][] noise = lqr.w();
    for (int s = 0; s < nx; s++) {
      for (int t = 0; t < nx; t++) {
        for (int i = 0; i < nu; i++) {
          noise[s][t] += b[s][i] * var[i] * b[t][i];
        }
      }
    }
    double trRSigmaU = 0;
    for (int i = 0; i < nu; i++) {
      trRSigmaU += r[i][i] * var[i];
    }
    double c0 = (trRSigmaU + gamma * trace(mul(p, noise))) / (1 - gamma);
    double j = trace(mul(p, lqr.x0())) + c0;
    double[][] y = add(lqr.x0(), scale(gamma / (1 - gamma), noise));
    double[][] sigma = lyapunov(ak, gamma, y);
    double[][] btpb = mul(transpose(b), mul(p, b));
    double[][] gk = mul(sub(mul(add(r, scale(gamma, btpb)), k),
        scale(gamma, mul(transpose(b), mul(p, a)))), sigma);
    gk = scale(2, gk);
    double[] gls = new double[nu];
    for (int i = 0; i < nu; i++) {
      gls[i] = 2 * var[i] * (r[i][i] + gamma * btpb[i][i]) / (1 - gamma);
    }
    return new Solution(j, gk, gls, p, c0, sigma);
  }

  /** X = Y + γ F X Fᵀ, solved as (I - γ F⊗F) vec(X) = vec(Y) (row-major vec). */
  static double[][] lyapunov(double[][] f, double gamma, double[][] y) {
    int n = f.length;
    double[][] m = new double[n * n][n * n];
    double[] rhs = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        int row = i * n + j;
        rhs[row] = y[i][j];
        m[row][row] += 1;
        for (int k = 0; k < n; k++) {
          for (int l = 0; l < n; l++) {
            m[row][k * n + l] -= gamma * f[i][k] * f[j][l];
          }
        }
      }
    }
    double[] v = Lin.solve(Lin.lu("I - γ F⊗F", m), rhs);
    double[][] x = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        // symmetrize away round-off: the exact solution is symmetric
        x[i][j] = 0.5 * (v[i * n + j] + v[j * n + i]);
      }
    }
    return x;
  }

  private static double spectralRadius(double[][] m) {
    EigenDecomposition e = new EigenDecomposition(new Array2DRowRealMatrix(m, true));
    double[] re = e.getRealEigenvalues();
    double[] im = e.getImagEigenvalues();
    double radius = 0;
    for (int i = 0; i < re.length; i++) {
      radius = Math.max(radius, Math.hypot(re[i], im[i]));
    }
    return radius;
  }

  private static double quadratic(double[][] m, double[] v) {
    double s = 0;
    for (int i = 0; i < v.length; i++) {
      s += v[i] * Vectors.dot(m[i], v);
    }
    return s;
  }

  private static double[][] mul(double[][] x, double[][] y) {
    double[][] z = new double[x.length][y[0].length];
    for (int i = 0; i < x.length; i++) {
      for (int k = 0; k < y.length; k++) {
        for (int j = 0; j < y[0].length; j++) {
          z[i][j] += x[i][k] * y[k][j];
        }
      }
    }
    return z;
  }

  private static double[][] add(double[][] x, double[][] y) {
    double[][] z = new double[x.length][x[0].length];
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < x[0].length; j++) {
        z[i][j] = x[i][j] + y[i][j];
      }
    }
    return z;
  }

  private static double[][] sub(double[][] x, double[][] y) {
    return add(x, scale(-1, y));
  }

  private static double[][] scale(double s, double[][] x) {
    double[][] z = new double[x.length][x[0].length];
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < x[0].length; j++) {
        z[i][j] = s * x[i][j];
      }
    }
    return z;
  }

  private static double[][] transpose(double[][] x) {
    return Lin.transpose(x);
  }

  private static double trace(double[][] x) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      s += x[i][i];
    }
    return s;
  }
}
