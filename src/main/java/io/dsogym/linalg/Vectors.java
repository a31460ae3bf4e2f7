package io.dsogym.linalg;

/** The dense vector arithmetic the engine's packages share. */
public final class Vectors {
  private Vectors() {}

  /** aᵀb over a's length. */
  public static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  /** ‖v‖₂. */
  public static double norm(double[] v) {
    return Math.sqrt(dot(v, v));
  }
}
