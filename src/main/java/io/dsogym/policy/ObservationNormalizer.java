package io.dsogym.policy;

import java.util.Arrays;

/**
 * Running observation statistics: z = clip((x - mean) / sqrt(var + EPS), -clip, clip), the
 * statistics merged batch by batch (Chan et al.'s parallel variance). They are frozen while a
 * batch is collected and trained on, and updated after it, so the ln pi recorded at
 * collection and the score computed later see the same inputs. The Python worker applies the
 * same formula with the statistics it is sent.
 */
public final class ObservationNormalizer {
  public static final double EPS = 1e-8;
  private final int dim;
  private final boolean enabled;
  private final double clip;
  private final double[] mean;
  private final double[] var;
  private final double[] invStd;
  private double count;

  /** @param enabled false: the identity (statistics are still not tracked) */
  public ObservationNormalizer(int dim, boolean enabled, double clip) {
    this.dim = dim;
    this.enabled = enabled;
    this.clip = clip;
    this.mean = new double[dim];
    this.var = new double[dim];
    this.invStd = new double[dim];
    Arrays.fill(var, 1.0);
    refreshInvStd();
  }

  public int dim() {
    return dim;
  }

  public boolean enabled() {
    return enabled;
  }

  public double clip() {
    return clip;
  }

  public double count() {
    return count;
  }

  public double[] mean() {
    return mean.clone();
  }

  public double[] var() {
    return var.clone();
  }

  /** Writes z = normalize(x[xOff .. xOff+dim)) to out[outOff ..]. */
  public void normalize(double[] x, int xOff, double[] out, int outOff) {
    if (!enabled) {
      System.arraycopy(x, xOff, out, outOff, dim);
      return;
    }
    for (int j = 0; j < dim; j++) {
      double z = (x[xOff + j] - mean[j]) * invStd[j];
      out[outOff + j] = Math.max(-clip, Math.min(clip, z));
    }
  }

  /** Merges the statistics of {@code rows} observations stored flat in x. */
  public void update(double[] x, int rows) {
    if (!enabled || rows == 0) {
      return;
    }
    double n = rows;
    double total = count + n;
    for (int j = 0; j < dim; j++) {
      double m = 0;
      for (int r = 0; r < rows; r++) {
        m += x[r * dim + j];
      }
      m /= n;
      double m2 = 0;
      for (int r = 0; r < rows; r++) {
        double d = x[r * dim + j] - m;
        m2 += d * d;
      }
      double delta = m - mean[j];
      double oldM2 = var[j] * count;
      double newM2 = oldM2 + m2 + delta * delta * count * n / total;
      mean[j] += delta * n / total;
      var[j] = newM2 / total;
    }
    count = total;
    refreshInvStd();
  }

  /** Restores saved statistics (checkpoints, tests). */
  public void set(double[] newMean, double[] newVar, double newCount) {
    if (newMean.length != dim || newVar.length != dim) {
      throw new IllegalArgumentException("normalizer statistics: expected " + dim
          + " values, got mean " + newMean.length + " and var " + newVar.length);
    }
    System.arraycopy(newMean, 0, mean, 0, dim);
    System.arraycopy(newVar, 0, var, 0, dim);
    count = newCount;
    refreshInvStd();
  }

  private void refreshInvStd() {
    for (int j = 0; j < dim; j++) {
      invStd[j] = 1.0 / Math.sqrt(var[j] + EPS);
    }
  }
}
