package io.dsogym.oracle;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.DecompositionSolver;
import org.apache.commons.math3.linear.LUDecomposition;

/** Small dense linear algebra on double arrays (LU solves through commons-math). */
final class Lin {
  private Lin() {}

  static DecompositionSolver lu(String what, double[][] a) {
    DecompositionSolver solver = new LUDecomposition(new Array2DRowRealMatrix(a, true)).getSolver();
    if (!solver.isNonSingular()) {
      throw new IllegalStateException(what + ": expected a nonsingular matrix, got a singular one");
    }
    return solver;
  }

  static double[] solve(DecompositionSolver solver, double[] b) {
    return solver.solve(new ArrayRealVector(b, true)).toArray();
  }

  /** Solves A X = B column by column, B given as [n][k]. */
  static double[][] solve(DecompositionSolver solver, double[][] b) {
    return solver.solve(new Array2DRowRealMatrix(b, true)).getData();
  }

  /** I - γ P, with the rows of {@code zeroRows} replaced by the identity's (no continuation). */
  static double[][] identityMinus(double gamma, double[][] p, boolean[] zeroRows) {
    int n = p.length;
    double[][] a = new double[n][n];
    for (int x = 0; x < n; x++) {
      a[x][x] = 1;
      if (zeroRows != null && zeroRows[x]) {
        continue;
      }
      for (int y = 0; y < n; y++) {
        a[x][y] -= gamma * p[x][y];
      }
    }
    return a;
  }

  static double[][] transpose(double[][] a) {
    double[][] t = new double[a[0].length][a.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[0].length; j++) {
        t[j][i] = a[i][j];
      }
    }
    return t;
  }


  /** Σ_x w[x] rows[x]. */
  static double[] weightedSum(double[] w, double[][] rows) {
    double[] s = new double[rows[0].length];
    for (int x = 0; x < w.length; x++) {
      for (int k = 0; k < s.length; k++) {
        s[k] += w[x] * rows[x][k];
      }
    }
    return s;
  }

  /** a += s · u vᵀ. */
  static void addOuter(double[][] a, double s, double[] u, double[] v) {
    for (int i = 0; i < u.length; i++) {
      for (int j = 0; j < v.length; j++) {
        a[i][j] += s * u[i] * v[j];
      }
    }
  }

  /** a += s · m. */
  static void addScaled(double[][] a, double s, double[][] m) {
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[0].length; j++) {
        a[i][j] += s * m[i][j];
      }
    }
  }
}
