package io.dsogym.linalg;

/** Shape checks whose errors name the field, the expected and the actual size. */
public final class Shapes {
  private Shapes() {}

  public static void length(String field, double[] a, int expected) {
    if (a == null || a.length != expected) {
      throw new IllegalArgumentException(field + ": expected length " + expected + ", got "
          + (a == null ? "null" : a.length));
    }
  }

  public static void matrix(String field, double[][] a, int rows, int cols) {
    if (a == null || a.length != rows) {
      throw new IllegalArgumentException(field + ": expected " + rows + " rows, got "
          + (a == null ? "null" : a.length));
    }
    for (int i = 0; i < rows; i++) {
      length(field + "[" + i + "]", a[i], cols);
    }
  }

  public static void tensor3(String field, double[][][] a, int d0, int d1, int d2) {
    if (a == null || a.length != d0) {
      throw new IllegalArgumentException(field + ": expected first dimension " + d0 + ", got "
          + (a == null ? "null" : a.length));
    }
    for (int i = 0; i < d0; i++) {
      matrix(field + "[" + i + "]", a[i], d1, d2);
    }
  }

  /** Checks a probability vector: non-negative entries summing to 1 within 1e-9. */
  public static void distribution(String field, double[] p) {
    double sum = 0;
    for (int i = 0; i < p.length; i++) {
      if (!(p[i] >= 0)) {
        throw new IllegalArgumentException(field + "[" + i + "]: expected >= 0, got " + p[i]);
      }
      sum += p[i];
    }
    if (Math.abs(sum - 1) > 1e-9) {
      throw new IllegalArgumentException(field + ": expected entries summing to 1, got " + sum);
    }
  }
}
