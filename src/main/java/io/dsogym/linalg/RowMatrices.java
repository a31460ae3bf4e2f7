package io.dsogym.linalg;

/**
 * Dense matrix products over matrices stored as arrays of rows, the kernels of a network's
 * batched passes. Every inner loop runs over whole rows indexed from 0, the one shape JDK 17's
 * auto-vectorizer (C2 SuperWord) turns into SIMD code: an inner loop indexed with a runtime
 * offset into a flat array is not vectorized, and runs about 4x slower. Four terms are added
 * per pass over a row to cut its loads and stores; they are added left to right, so every sum
 * runs in the order of the plain triple loop and the result is the same bit for bit.
 * Shapes are the caller's: rows may be longer than the sizes used.
 */
public final class RowMatrices {
  private RowMatrices() {}

  /** c[r][0..cols) += Σ_k a[r][k] · b[k][0..cols), for r &lt; rows, k &lt; inner (C += A B). */
  public static void multiplyAdd(double[][] a, double[][] b, double[][] c, int rows, int inner,
      int cols) {
    for (int r = 0; r < rows; r++) {
      double[] ar = a[r];
      double[] cr = c[r];
      int k = 0;
      for (; k + 3 < inner; k += 4) {
        double a0 = ar[k];
        double a1 = ar[k + 1];
        double a2 = ar[k + 2];
        double a3 = ar[k + 3];
        double[] b0 = b[k];
        double[] b1 = b[k + 1];
        double[] b2 = b[k + 2];
        double[] b3 = b[k + 3];
        for (int j = 0; j < cols; j++) {
          cr[j] = cr[j] + a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
        }
      }
      for (; k < inner; k++) {
        double ak = ar[k];
        double[] bk = b[k];
        for (int j = 0; j < cols; j++) {
          cr[j] += ak * bk[j];
        }
      }
    }
  }
}
