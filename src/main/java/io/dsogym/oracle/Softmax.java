package io.dsogym.oracle;

import io.dsogym.linalg.Vectors;
import java.util.SplittableRandom;

/** Softmax rows over linear logits, their scores, and categorical sampling. */
final class Softmax {
  private Softmax() {}

  /**
   * out[y] ∝ exp(features[y]·θ + offset[y]); offset may be null, and an offset of -∞ excludes y
   * (used for the support of the LMDP passive dynamics).
   */
  static void probabilities(double[][] features, double[] theta, double[] offset, double[] out) {
    double max = Double.NEGATIVE_INFINITY;
    for (int y = 0; y < features.length; y++) {
      double logit = Vectors.dot(features[y], theta) + (offset == null ? 0 : offset[y]);
      out[y] = logit;
      max = Math.max(max, logit);
    }
    double sum = 0;
    for (int y = 0; y < out.length; y++) {
      out[y] = out[y] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(out[y] - max);
      sum += out[y];
    }
    for (int y = 0; y < out.length; y++) {
      out[y] /= sum;
    }
  }

  /** Σ_y p[y] features[y], the expected feature; the score of y is features[y] minus it. */
  static double[] meanFeature(double[][] features, double[] p) {
    double[] mean = new double[features[0].length];
    for (int y = 0; y < features.length; y++) {
      if (p[y] == 0) {
        continue;
      }
      for (int k = 0; k < mean.length; k++) {
        mean[k] += p[y] * features[y][k];
      }
    }
    return mean;
  }

  /** ∇² ln p(y) = -Cov_p(features), the same for every y. */
  static double[][] negativeFeatureCovariance(double[][] features, double[] p) {
    double[] mean = meanFeature(features, p);
    int k = mean.length;
    double[][] h = new double[k][k];
    for (int y = 0; y < features.length; y++) {
      if (p[y] == 0) {
        continue;
      }
      for (int a = 0; a < k; a++) {
        double da = features[y][a] - mean[a];
        for (int b = 0; b < k; b++) {
          h[a][b] -= p[y] * da * (features[y][b] - mean[b]);
        }
      }
    }
    return h;
  }

  static int sample(double[] p, SplittableRandom rng) {
    double u = rng.nextDouble();
    double cumulative = 0;
    int last = -1;
    for (int y = 0; y < p.length; y++) {
      if (p[y] > 0) {
        cumulative += p[y];
        last = y;
        if (u < cumulative) {
          return y;
        }
      }
    }
    return last; // u beyond a cumulative sum that rounded below 1
  }

}
