package io.dsogym.oracle;

import io.dsogym.chain.Chain;
import java.util.SplittableRandom;

/**
 * A learned state estimator as a DSO chain (docs/math.md §6, §10): a linear Gaussian system
 * x' = A x + w, observed as y' = C x' + v, tracked by the filter x̂' = A x̂ + L (y' − C A x̂) + η,
 * with θ = L (n × p, row-major) the filter gain. The chain's state is (x, y, x̂); its cost is the
 * squared estimation error |x − x̂|², and in the average-cost setting J(L) is the stationary
 * mean-square error.
 *
 * <p>η ~ N(0, s²I) is injected into the estimate so that the transition has a density in θ
 * (limitation 1 of docs/math.md §7): only the x̂ factor N(x̂'; A x̂ + L(y' − CAx̂), s²I) depends on
 * θ, with score ∂/∂L_ij = ((x̂' − mean)_i / s²) (y' − CAx̂)_j. Because η enters the next
 * prior through A, the gain that minimizes J is the steady-state Kalman gain of the process
 * noise W + s² A Aᵀ ({@link #kalmanGain}); the exact J of any stable gain is {@link
 * #meanSquareError}.
 */
public final class LinearFilterChain implements Chain<double[]> {
  private final double[][] a;
  private final double[][] c;
  private final double[][] w;
  private final double[][] v;
  private final double s;
  private final int n;
  private final int p;
  private final double[][] wFactor;
  private final double[][] vFactor;
  private final double[][] stationaryFactor;

  /**
   * @param a the state transition (n × n, spectral radius < 1 so the state is stationary)
   * @param c the observation matrix (p × n)
   * @param w the process noise covariance (n × n, positive definite)
   * @param v the observation noise covariance (p × p, positive definite)
   * @param estimateNoise s > 0, the standard deviation of η
   */
  public LinearFilterChain(double[][] a, double[][] c, double[][] w, double[][] v,
      double estimateNoise) {
    this.n = a.length;
    this.p = c.length;
    if (c[0].length != n || w.length != n || v.length != p) {
      throw new IllegalArgumentException("shapes: expected A n×n, C p×n, W n×n, V p×p, got A "
          + n + "×" + a[0].length + ", C " + p + "×" + c[0].length + ", W " + w.length
          + ", V " + v.length);
    }
    if (!(Mat.spectralRadius(a) < 1)) {
      throw new IllegalArgumentException("A: expected a spectral radius < 1 (a stationary "
          + "state), got " + Mat.spectralRadius(a));
    }
    if (!(estimateNoise > 0)) {
      throw new IllegalArgumentException("estimateNoise: expected > 0, got " + estimateNoise);
    }
    this.a = Mat.copy(a);
    this.c = Mat.copy(c);
    this.w = Mat.copy(w);
    this.v = Mat.copy(v);
    this.s = estimateNoise;
    this.wFactor = positiveDefiniteFactor(w, "W");
    this.vFactor = positiveDefiniteFactor(v, "V");
    // start the state from its stationary law X = A X Aᵀ + W, the estimate at 0
    this.stationaryFactor = positiveDefiniteFactor(LqrExact.lyapunov(a, 1.0, w),
        "stationary covariance");
  }

  public int stateDim() {
    return n;
  }

  public int observationDim() {
    return p;
  }

  @Override
  public int numParams() {
    return n * p;
  }

  /** The gain L of θ. */
  public double[][] gain(double[] theta) {
    double[][] l = new double[n][p];
    for (int i = 0; i < n; i++) {
      System.arraycopy(theta, i * p, l[i], 0, p);
    }
    return l;
  }

  @Override
  public double[] sampleInitial(SplittableRandom rng) {
    double[] z = new double[2 * n + p];
    double[] x = Gaussians.sample(stationaryFactor, rng);
    System.arraycopy(x, 0, z, 0, n);
    return z;
  }

  @Override
  public Step<double[]> step(double[] z, double[] theta, SplittableRandom rng) {
    double[] x = Mat.mul(a, slice(z, 0, n));
    double[] noise = Gaussians.sample(wFactor, rng);
    for (int i = 0; i < n; i++) {
      x[i] += noise[i];
    }
    double[] y = Mat.mul(c, x);
    double[] obsNoise = Gaussians.sample(vFactor, rng);
    for (int i = 0; i < p; i++) {
      y[i] += obsNoise[i];
    }
    double[] mean = estimateMean(z, y, theta);
    double[] next = new double[2 * n + p];
    System.arraycopy(x, 0, next, 0, n);
    System.arraycopy(y, 0, next, n, p);
    for (int i = 0; i < n; i++) {
      next[n + p + i] = mean[i] + s * rng.nextGaussian();
    }
    return new Step<>(next, null);
  }

  /** A x̂ + L (y' − C A x̂). */
  private double[] estimateMean(double[] z, double[] y, double[] theta) {
    double[] prior = Mat.mul(a, slice(z, n + p, n));
    double[] innovation = innovation(prior, y);
    double[] mean = prior.clone();
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < p; j++) {
        mean[i] += theta[i * p + j] * innovation[j];
      }
    }
    return mean;
  }

  private double[] innovation(double[] prior, double[] y) {
    double[] predicted = Mat.mul(c, prior);
    double[] out = new double[p];
    for (int j = 0; j < p; j++) {
      out[j] = y[j] - predicted[j];
    }
    return out;
  }

  @Override
  public void score(double[] z, double[] next, double[] latent, double[] theta, double weight,
      double[] gradAccum) {
    double[] y = slice(next, n, p);
    double[] innovation = innovation(Mat.mul(a, slice(z, n + p, n)), y);
    double[] mean = estimateMean(z, y, theta);
    for (int i = 0; i < n; i++) {
      double r = (next[n + p + i] - mean[i]) / (s * s);
      for (int j = 0; j < p; j++) {
        gradAccum[i * p + j] += weight * r * innovation[j];
      }
    }
  }

  /** ln of the θ-dependent factor N(x̂'; mean, s²I) (the x and y factors do not depend on θ). */
  @Override
  public double logProb(double[] z, double[] next, double[] theta) {
    double[] mean = estimateMean(z, slice(next, n, p), theta);
    double q = 0;
    for (int i = 0; i < n; i++) {
      double r = (next[n + p + i] - mean[i]) / s;
      q += r * r;
    }
    return -0.5 * q - n * Math.log(s) - 0.5 * n * Math.log(2 * Math.PI);
  }

  /** |x − x̂|². */
  @Override
  public double cost(double[] z, double[] theta) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
      double e = z[i] - z[n + p + i];
      sum += e * e;
    }
    return sum;
  }

  @Override
  public void costGradient(double[] z, double[] theta, double weight, double[] gradAccum) {}

  @Override
  public boolean isTerminal(double[] z) {
    return false;
  }

  /**
   * The exact J(L): the stationary E|x − x̂|² = tr Σ, where the error e = x − x̂ follows
   * e' = (I − LC) A e + (I − LC) w − L v − η, so Σ = F Σ Fᵀ + (I − LC) W (I − LC)ᵀ + L V Lᵀ
   * + s² I with F = (I − LC) A; +∞ when F is not stable.
   */
  public double meanSquareError(double[][] l) {
    double[][] ilc = Mat.combine(1, Mat.identity(n), -1, Mat.mul(l, c));
    double[][] f = Mat.mul(ilc, a);
    if (!(Mat.spectralRadius(f) < 1)) {
      return Double.POSITIVE_INFINITY;
    }
    double[][] y = Mat.add(Mat.mul(ilc, Mat.mul(w, Mat.transpose(ilc))),
        Mat.mul(l, Mat.mul(v, Mat.transpose(l))));
    for (int i = 0; i < n; i++) {
      y[i][i] += s * s;
    }
    return Mat.trace(LqrExact.lyapunov(f, 1.0, y));
  }

  /**
   * The steady-state Kalman gain L* = P Cᵀ (C P Cᵀ + V)⁻¹, with P the fixed point of the
   * prior-covariance Riccati recursion P ← A (P − P Cᵀ (C P Cᵀ + V)⁻¹ C P) Aᵀ + W + s² A Aᵀ
   * (η is process noise that enters the next prior through A), iterated to a relative change
   * below 1e-14.
   */
  public double[][] kalmanGain() {
    return kalmanGain(s);
  }

  /** The steady-state Kalman gain of the filter without injected noise (s = 0). */
  public double[][] noiseFreeKalmanGain() {
    return kalmanGain(0);
  }

  private double[][] kalmanGain(double injected) {
    double[][] aat = Mat.mul(a, Mat.transpose(a));
    double[][] wEff = Mat.combine(1, w, injected * injected, aat);
    double[][] prior = Mat.copy(wEff);
    double[][] gain = null;
    for (int it = 0; it < 100_000; it++) {
      gain = gainOf(prior);
      double[][] posterior = Mat.combine(1, prior, -1, Mat.mul(gain, Mat.mul(c, prior)));
      double[][] next = Mat.add(Mat.mul(a, Mat.mul(posterior, Mat.transpose(a))), wEff);
      double change = Mat.maxAbs(Mat.combine(1, next, -1, prior));
      prior = next;
      if (change <= 1e-14 * Mat.maxAbs(prior)) {
        return gainOf(prior);
      }
    }
    throw new IllegalStateException("Riccati recursion: no fixed point after 100000 steps");
  }

  private double[][] gainOf(double[][] prior) {
    double[][] ct = Mat.transpose(c);
    double[][] innovationCov = Mat.add(Mat.mul(c, Mat.mul(prior, ct)), v);
    double[][] inverse = Lin.solve(Lin.lu("C P Cᵀ + V", innovationCov), Mat.identity(p));
    return Mat.mul(prior, Mat.mul(ct, inverse));
  }

  private static double[] slice(double[] z, int from, int length) {
    double[] out = new double[length];
    System.arraycopy(z, from, out, 0, length);
    return out;
  }

  /** The Cholesky factor of a covariance that must be positive definite. */
  private static double[][] positiveDefiniteFactor(double[][] m, String field) {
    double[][] l = Gaussians.psdFactor(field, m);
    for (int j = 0; j < l.length; j++) {
      if (!(l[j][j] > 0)) {
        throw new IllegalArgumentException(field + ": expected a positive definite matrix, got "
            + "a zero pivot at row " + j);
      }
    }
    return l;
  }

}
