package io.dsogym.oracle;

import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;

/** Small dense matrix arithmetic on double[rows][cols] (fresh results, inputs untouched). */
final class Mat {
  private Mat() {}

  static double[][] mul(double[][] x, double[][] y) {
    double[][] z = new double[x.length][y[0].length];
    for (int i = 0; i < x.length; i++) {
      for (int k = 0; k < y.length; k++) {
        double xik = x[i][k];
        for (int j = 0; j < y[0].length; j++) {
          z[i][j] += xik * y[k][j];
        }
      }
    }
    return z;
  }

  static double[] mul(double[][] x, double[] v) {
    double[] z = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < v.length; j++) {
        z[i] += x[i][j] * v[j];
      }
    }
    return z;
  }

  /** s·x + t·y. */
  static double[][] combine(double s, double[][] x, double t, double[][] y) {
    double[][] z = new double[x.length][x[0].length];
    for (int i = 0; i < x.length; i++) {
      for (int j = 0; j < x[0].length; j++) {
        z[i][j] = s * x[i][j] + t * y[i][j];
      }
    }
    return z;
  }

  static double[][] add(double[][] x, double[][] y) {
    return combine(1, x, 1, y);
  }

  static double[][] transpose(double[][] x) {
    return Lin.transpose(x);
  }

  static double[][] identity(int n) {
    double[][] z = new double[n][n];
    for (int i = 0; i < n; i++) {
      z[i][i] = 1;
    }
    return z;
  }

  static double trace(double[][] x) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      s += x[i][i];
    }
    return s;
  }

  /** tr(x y) without forming the product. */
  static double traceOfProduct(double[][] x, double[][] y) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      for (int k = 0; k < y.length; k++) {
        s += x[i][k] * y[k][i];
      }
    }
    return s;
  }

  /** vᵀ x v. */
  static double quadratic(double[][] x, double[] v) {
    double s = 0;
    for (int i = 0; i < v.length; i++) {
      for (int j = 0; j < v.length; j++) {
        s += v[i] * x[i][j] * v[j];
      }
    }
    return s;
  }

  static double maxAbs(double[][] x) {
    double s = 0;
    for (double[] row : x) {
      for (double v : row) {
        s = Math.max(s, Math.abs(v));
      }
    }
    return s;
  }

  static double[][] copy(double[][] x) {
    double[][] z = new double[x.length][];
    for (int i = 0; i < x.length; i++) {
      z[i] = x[i].clone();
    }
    return z;
  }

  /** max |eigenvalue| of a square matrix (real or complex eigenvalues). */
  static double spectralRadius(double[][] x) {
    EigenDecomposition e = new EigenDecomposition(new Array2DRowRealMatrix(x, true));
    double[] re = e.getRealEigenvalues();
    double[] im = e.getImagEigenvalues();
    double radius = 0;
    for (int i = 0; i < re.length; i++) {
      radius = Math.max(radius, Math.hypot(re[i], im[i]));
    }
    return radius;
  }

  /** The smallest eigenvalue of a symmetric matrix. */
  static double minSymmetricEigenvalue(double[][] x) {
    double[] ev = new EigenDecomposition(new Array2DRowRealMatrix(x, true)).getRealEigenvalues();
    double min = Double.POSITIVE_INFINITY;
    for (double v : ev) {
      min = Math.min(min, v);
    }
    return min;
  }
}
