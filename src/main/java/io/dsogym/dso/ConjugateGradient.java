package io.dsogym.dso;

import io.dsogym.linalg.Vectors;
import java.util.Arrays;

/**
 * Conjugate gradient for A x = b with A symmetric, given only as products A v: how the natural
 * gradient (F w = g, docs/math.md §4e) and Chain Iteration's damped Newton step (§4c) are solved
 * without forming a matrix.
 */
public final class ConjugateGradient {
  private ConjugateGradient() {}

  /** A matrix-vector product out = A v. */
  @FunctionalInterface
  public interface Operator {
    void apply(double[] v, double[] out);
  }

  /**
   * @param iterations the iterations run
   * @param residual ‖b - A x‖ / ‖b‖ at the end
   * @param negativeCurvature true when a direction with pᵀAp <= 0 stopped the solve (A is not
   *     positive definite there; x is the iterate before it)
   */
  public record Result(int iterations, double residual, boolean negativeCurvature) {}

  /** Solves A x = b from x = 0 into {@code x}; stops at maxIterations or relative residual tol. */
  public static Result solve(Operator a, double[] b, double[] x, int maxIterations, double tol) {
    int n = b.length;
    Arrays.fill(x, 0);
    double[] r = b.clone();
    double[] p = b.clone();
    double[] ap = new double[n];
    double rr = Vectors.dot(r, r);
    double bNorm = Math.sqrt(rr);
    if (bNorm == 0) {
      return new Result(0, 0, false);
    }
    int it = 0;
    while (it < maxIterations && Math.sqrt(rr) > tol * bNorm) {
      a.apply(p, ap);
      double pap = Vectors.dot(p, ap);
      if (!(pap > 0)) {
        return new Result(it, Math.sqrt(rr) / bNorm, true);
      }
      double alpha = rr / pap;
      for (int j = 0; j < n; j++) {
        x[j] += alpha * p[j];
        r[j] -= alpha * ap[j];
      }
      double rrNew = Vectors.dot(r, r);
      double beta = rrNew / rr;
      for (int j = 0; j < n; j++) {
        p[j] = r[j] + beta * p[j];
      }
      rr = rrNew;
      it++;
    }
    return new Result(it, Math.sqrt(rr) / bNorm, false);
  }

}
