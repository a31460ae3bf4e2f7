package io.dsogym.oracle;

import io.dsogym.chain.Chain;
import io.dsogym.linalg.Shapes;

import io.dsogym.linalg.Vectors;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.CholeskyDecomposition;
import org.apache.commons.math3.linear.RealMatrix;

/**
 * A linear system under a linear Gaussian policy, as a chain on x ∈ R^nx (the oracle case
 * lqr3x2_discounted): x₀ ~ N(0, X0), u = -Kx + e with e ~ N(0, Σu), Σu = diag(exp(2 log_std)),
 * x' = Ax + Bu + w with w ~ N(0, W).
 *
 * <p>θ = [K row-major (nu·nx), log_std (nu)]; see {@link #pack}. The step cost is the closed-form
 * policy average of the sampled-action cost xᵀQx + uᵀRu (docs/math.md §2c, "cost term", first option):
 * L(x,θ) = xᵀQx + (Kx)ᵀR(Kx) + tr(RΣu); both have the same J. {@link #step} reports the sampled
 * action u as the latent; {@link #score} is the Gaussian policy score at u (route 2) or the exact
 * score of the Gaussian chain x' ~ N((A-BK)x, BΣuBᵀ + W) (route 1).
 */
public final class LqrChain implements Chain<double[]> {
  private final int nx;
  private final int nu;
  private final double[][] a;
  private final double[][] b;
  private final double[][] q;
  private final double[][] r;
  private final double[][] w;
  private final double[][] x0;
  private final double[][] x0Factor;
  private final double[][] wFactor;
  private final ScoreRoute route;

  public LqrChain(double[][] a, double[][] b, double[][] q, double[][] r, double[][] w,
      double[][] x0, ScoreRoute route) {
    this.nx = a.length;
    this.nu = b.length == 0 ? 0 : b[0].length;
    Shapes.matrix("A", a, nx, nx);
    Shapes.matrix("B", b, nx, nu);
    Shapes.matrix("Q", q, nx, nx);
    Shapes.matrix("R", r, nu, nu);
    Shapes.matrix("W", w, nx, nx);
    Shapes.matrix("X0", x0, nx, nx);
    requireSymmetric("Q", q);
    requireSymmetric("R", r);
    requireSymmetric("W", w);
    requireSymmetric("X0", x0);
    if (route == null) {
      throw new IllegalArgumentException("route: expected EXACT_MARGINAL or SAMPLED_ACTION, got null");
    }
    this.a = a;
    this.b = b;
    this.q = q;
    this.r = r;
    this.w = w;
    this.x0 = x0;
    this.x0Factor = Gaussians.psdFactor("X0", x0);
    this.wFactor = Gaussians.psdFactor("W", w);
    this.route = route;
  }

  /** The same problem scored by the other route. */
  public LqrChain withScoreRoute(ScoreRoute other) {
    return new LqrChain(a, b, q, r, w, x0, other);
  }

  public int stateDim() {
    return nx;
  }

  public int actionDim() {
    return nu;
  }

  public double[][] a() {
    return copy(a);
  }

  public double[][] b() {
    return copy(b);
  }

  public double[][] q() {
    return copy(q);
  }

  public double[][] r() {
    return copy(r);
  }

  public double[][] w() {
    return copy(w);
  }

  public double[][] x0() {
    return copy(x0);
  }

  /** θ from K [nu][nx] and log_std [nu]. */
  public static double[] pack(double[][] k, double[] logStd) {
    int nu = logStd.length;
    int nx = k[0].length;
    Shapes.matrix("K", k, nu, nx);
    double[] theta = new double[nu * nx + nu];
    for (int i = 0; i < nu; i++) {
      System.arraycopy(k[i], 0, theta, i * nx, nx);
    }
    System.arraycopy(logStd, 0, theta, nu * nx, nu);
    return theta;
  }

  /** K [nu][nx] from θ. */
  public double[][] gain(double[] theta) {
    Shapes.length("theta", theta, numParams());
    double[][] k = new double[nu][nx];
    for (int i = 0; i < nu; i++) {
      System.arraycopy(theta, i * nx, k[i], 0, nx);
    }
    return k;
  }

  /** log_std [nu] from θ. */
  public double[] logStd(double[] theta) {
    Shapes.length("theta", theta, numParams());
    double[] ls = new double[nu];
    System.arraycopy(theta, nu * nx, ls, 0, nu);
    return ls;
  }

  @Override
  public int numParams() {
    return nu * nx + nu;
  }

  @Override
  public double[] sampleInitial(SplittableRandom rng) {
    return Gaussians.sample(x0Factor, rng);
  }

  @Override
  public Step<double[]> step(double[] x, double[] theta, SplittableRandom rng) {
    double[] u = new double[nu];
    for (int i = 0; i < nu; i++) {
      u[i] = -kx(theta, x, i) + Math.exp(theta[nu * nx + i]) * rng.nextGaussian();
    }
    double[] next = Gaussians.sample(wFactor, rng);
    for (int i = 0; i < nx; i++) {
      for (int j = 0; j < nx; j++) {
        next[i] += a[i][j] * x[j];
      }
      for (int j = 0; j < nu; j++) {
        next[i] += b[i][j] * u[j];
      }
    }
    return new Step<>(next, u);
  }

  @Override
  public void score(double[] x, double[] next, double[] latent, double[] theta, double weight,
      double[] gradAccum) {
    if (route == ScoreRoute.SAMPLED_ACTION) {
      if (latent == null || latent.length != nu) {
        throw new IllegalArgumentException("latent: expected the sampled action of length " + nu
            + ", got " + (latent == null ? "null" : "length " + latent.length));
      }
      // ln π = Σ_i -e_i²/(2σ_i²) - log_std_i + const, e = u + Kx
      for (int i = 0; i < nu; i++) {
        double var = Math.exp(2 * theta[nu * nx + i]);
        double e = latent[i] + kx(theta, x, i);
        for (int j = 0; j < nx; j++) {
          gradAccum[i * nx + j] += weight * (-e * x[j] / var);
        }
        gradAccum[nu * nx + i] += weight * (e * e / var - 1);
      }
      return;
    }
    // route 1: x' ~ N(m, S), m = (A-BK)x, S = BΣuBᵀ + W; v = BᵀS⁻¹(x'-m), G = BᵀS⁻¹B
    Route1Cache cache = route1Cache(theta);
    double[] resid = residual(x, next, theta);
    for (int i = 0; i < nu; i++) {
      double v = Vectors.dot(cache.btSInv[i], resid);
      double g = cache.btSInvBDiagonal[i];
      double var = Math.exp(2 * theta[nu * nx + i]);
      for (int j = 0; j < nx; j++) {
        gradAccum[i * nx + j] += weight * (-v * x[j]); // ∂m/∂K_ij = -B[:,i] x_j
      }
      gradAccum[nu * nx + i] += weight * var * (v * v - g); // ∂S/∂log_std_i = 2σ_i² b_i b_iᵀ
    }
  }

  @Override
  public double logProb(double[] x, double[] next, double[] theta) {
    RealMatrix s = chainCovariance(theta);
    CholeskyDecomposition chol = cholesky("BΣuBᵀ + W", s);
    double[] resid = residual(x, next, theta);
    double[] sInvResid = chol.getSolver().solve(new ArrayRealVector(resid)).toArray();
    return -0.5 * (Vectors.dot(resid, sInvResid) + Math.log(chol.getDeterminant())
        + nx * Math.log(2 * Math.PI));
  }

  @Override
  public double cost(double[] x, double[] theta) {
    double l = quadratic(q, x);
    double[] kxv = new double[nu];
    for (int i = 0; i < nu; i++) {
      kxv[i] = kx(theta, x, i);
      l += r[i][i] * Math.exp(2 * theta[nu * nx + i]);
    }
    return l + quadratic(r, kxv);
  }

  /** ∂/∂K_ij = 2 (RKx)_i x_j; ∂/∂log_std_i = 2 R_ii σ_i². */
  @Override
  public void costGradient(double[] x, double[] theta, double weight, double[] gradAccum) {
    double[] kxv = new double[nu];
    for (int i = 0; i < nu; i++) {
      kxv[i] = kx(theta, x, i);
    }
    for (int i = 0; i < nu; i++) {
      double rkx = Vectors.dot(r[i], kxv);
      for (int j = 0; j < nx; j++) {
        gradAccum[i * nx + j] += weight * 2 * rkx * x[j];
      }
      gradAccum[nu * nx + i] += weight * 2 * r[i][i] * Math.exp(2 * theta[nu * nx + i]);
    }
  }

  @Override
  public boolean isTerminal(double[] x) {
    return false;
  }

  /** The exact one-step covariance BΣuBᵀ + W of the chain. */
  public RealMatrix chainCovariance(double[] theta) {
    double[][] s = copy(w);
    for (int p = 0; p < nx; p++) {
      for (int t = 0; t < nx; t++) {
        for (int i = 0; i < nu; i++) {
          s[p][t] += b[p][i] * Math.exp(2 * theta[nu * nx + i]) * b[t][i];
        }
      }
    }
    return new Array2DRowRealMatrix(s, false);
  }

  private double kx(double[] theta, double[] x, int i) {
    double s = 0;
    for (int j = 0; j < nx; j++) {
      s += theta[i * nx + j] * x[j];
    }
    return s;
  }

  private double[] residual(double[] x, double[] next, double[] theta) {
    double[] resid = next.clone();
    for (int p = 0; p < nx; p++) {
      for (int j = 0; j < nx; j++) {
        resid[p] -= a[p][j] * x[j];
      }
      for (int i = 0; i < nu; i++) {
        resid[p] += b[p][i] * kx(theta, x, i);
      }
    }
    return resid;
  }

  /** BᵀS⁻¹ and diag(BᵀS⁻¹B) at one θ: route 1 scores many transitions under the same θ. */
  private record Route1Cache(double[] theta, double[][] btSInv, double[] btSInvBDiagonal) {}

  private volatile Route1Cache route1Cache;

  private Route1Cache route1Cache(double[] theta) {
    Route1Cache c = route1Cache;
    if (c != null && Arrays.equals(c.theta, theta)) {
      return c;
    }
    RealMatrix sInv = cholesky("BΣuBᵀ + W", chainCovariance(theta)).getSolver().getInverse();
    double[][] btSInv = new double[nu][nx];
    double[] diag = new double[nu];
    for (int i = 0; i < nu; i++) {
      for (int s = 0; s < nx; s++) {
        for (int p = 0; p < nx; p++) {
          btSInv[i][s] += b[p][i] * sInv.getEntry(p, s);
        }
        diag[i] += btSInv[i][s] * b[s][i];
      }
    }
    c = new Route1Cache(theta.clone(), btSInv, diag);
    route1Cache = c;
    return c;
  }

  private static CholeskyDecomposition cholesky(String field, RealMatrix s) {
    try {
      return new CholeskyDecomposition(s);
    } catch (RuntimeException e) {
      throw new IllegalStateException(field + ": expected positive definite (the exact chain"
          + " score needs a density), got " + s, e);
    }
  }

  private static double quadratic(double[][] m, double[] v) {
    double s = 0;
    for (int i = 0; i < v.length; i++) {
      s += v[i] * Vectors.dot(m[i], v);
    }
    return s;
  }



  private static void requireSymmetric(String field, double[][] m) {
    for (int i = 0; i < m.length; i++) {
      for (int j = 0; j < i; j++) {
        if (Math.abs(m[i][j] - m[j][i]) > 1e-12 * (1 + Math.abs(m[i][j]))) {
          throw new IllegalArgumentException(field + ": expected symmetric, got [" + i + "][" + j
              + "] = " + m[i][j] + " vs [" + j + "][" + i + "] = " + m[j][i]);
        }
      }
    }
  }

  private static double[][] copy(double[][] m) {
    double[][] c = new double[m.length][];
    for (int i = 0; i < m.length; i++) {
      c[i] = m[i].clone();
    }
    return c;
  }
}
