package io.dsogym.oracle;

import java.util.SplittableRandom;

/** Sampling correlated Gaussian noise for the known linear-Gaussian chains. */
final class Gaussians {
  private Gaussians() {}

  /** Lower factor F with FFᵀ = M for a positive semidefinite M (zero columns where singular). */
  static double[][] psdFactor(String field, double[][] m) {
    int n = m.length;
    double[][] f = new double[n][n];
    double scale = 0;
    for (int i = 0; i < n; i++) {
      scale = Math.max(scale, Math.abs(m[i][i]));
    }
    for (int j = 0; j < n; j++) {
      double d = m[j][j];
      for (int k = 0; k < j; k++) {
        d -= f[j][k] * f[j][k];
      }
      if (d < -1e-12 * Math.max(scale, 1)) {
        throw new IllegalArgumentException(field + ": expected positive semidefinite, got pivot "
            + d + " at " + j);
      }
      if (d <= 1e-300) {
        continue; // a direction without noise
      }
      f[j][j] = Math.sqrt(d);
      for (int i = j + 1; i < n; i++) {
        double s = m[i][j];
        for (int k = 0; k < j; k++) {
          s -= f[i][k] * f[j][k];
        }
        f[i][j] = s / f[j][j];
      }
    }
    return f;
  }
  /** L z with z standard normal: a draw of N(0, L Lᵀ). */
  static double[] sample(double[][] factor, SplittableRandom rng) {
    int n = factor.length;
    double[] z = new double[n];
    for (int i = 0; i < n; i++) {
      z[i] = rng.nextGaussian();
    }
    double[] out = new double[n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j <= i; j++) {
        out[i] += factor[i][j] * z[j];
      }
    }
    return out;
  }
}
