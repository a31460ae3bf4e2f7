package io.dsogym.collect;

/**
 * The check of the tests of θ in the system: over independent runs, how many standard errors
 * the mean of each coordinate of a gradient estimate lies from the exact gradient.
 */
final class CoordinateZ {
  private CoordinateZ() {}

  /**
   * The largest |mean − exact| / se over coordinates; {@code worst} gets that coordinate's
   * figures. A coordinate the samples never touch (se = 0) counts as 0 when the exact value is
   * 0 up to finite-difference rounding (1e-9), else as infinitely far.
   */
  static double max(double[][] samples, double[] exact, StringBuilder worst) {
    int runs = samples.length;
    double max = 0;
    for (int k = 0; k < exact.length; k++) {
      double mean = 0;
      for (double[] s : samples) {
        mean += s[k] / runs;
      }
      double var = 0;
      for (double[] s : samples) {
        var += (s[k] - mean) * (s[k] - mean) / (runs - 1);
      }
      double se = Math.sqrt(var / runs);
      double diff = Math.abs(mean - exact[k]);
      double z = se > 0 ? diff / se : diff < 1e-9 ? 0 : Double.POSITIVE_INFINITY;
      if (z > max) {
        max = z;
        worst.setLength(0);
        worst.append(String.format("coordinate %d: mean %.5f, exact %.5f, se %.5f", k, mean,
            exact[k], se));
      }
    }
    return max;
  }
}
