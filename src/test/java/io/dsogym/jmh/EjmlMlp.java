package io.dsogym.jmh;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * The yardstick of {@link MlpKernelBenchmark}: a tanh MLP's batched forward and backward
 * passes written with EJML's dense products (Z = A Wᵀ + b, ∇W = Δᵀ A, Δ_prev = Δ W), over the
 * same flat parameter layout as {@code policy.Mlp}; W is copied into an EJML matrix per layer
 * and call, as the kernels copy theirs.
 */
final class EjmlMlp {
  private final int[] sizes;
  private final int rows;
  private final DMatrixRMaj[] w;
  private final DMatrixRMaj[] gw;
  private final DMatrixRMaj[] acts;
  private final DMatrixRMaj[] deltas;

  EjmlMlp(int[] sizes, int rows) {
    this.sizes = sizes.clone();
    this.rows = rows;
    int layers = sizes.length - 1;
    w = new DMatrixRMaj[layers];
    gw = new DMatrixRMaj[layers];
    acts = new DMatrixRMaj[layers + 1];
    deltas = new DMatrixRMaj[layers];
    for (int l = 0; l <= layers; l++) {
      acts[l] = new DMatrixRMaj(rows, sizes[l]);
      if (l < layers) {
        w[l] = new DMatrixRMaj(sizes[l + 1], sizes[l]);
        gw[l] = new DMatrixRMaj(sizes[l + 1], sizes[l]);
        deltas[l] = new DMatrixRMaj(rows, sizes[l + 1]);
      }
    }
  }

  /** The outputs (rows x outputs, row-major) of rows index[from..from+rows) of x. */
  double[] forward(double[] theta, double[] x, int[] index, int from) {
    int in0 = sizes[0];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(x, index[from + r] * in0, acts[0].data, r * in0, in0);
    }
    int p = 0;
    int layers = sizes.length - 1;
    for (int l = 0; l < layers; l++) {
      int in = sizes[l];
      int out = sizes[l + 1];
      System.arraycopy(theta, p, w[l].data, 0, out * in);
      int bias = p + out * in;
      CommonOps_DDRM.multTransB(acts[l], w[l], acts[l + 1]);
      double[] z = acts[l + 1].data;
      for (int r = 0; r < rows; r++) {
        for (int i = 0; i < out; i++) {
          double s = z[r * out + i] + theta[bias + i];
          z[r * out + i] = l < layers - 1 ? 1.0 - 2.0 / (Math.exp(2.0 * s) + 1.0) : s;
        }
      }
      p = bias + out;
    }
    return acts[layers].data;
  }

  /** grad += Σ_r d(dOut_r · net(x_r))/dθ at the last forward. */
  void backward(double[] dOut, double[] grad) {
    int layers = sizes.length - 1;
    System.arraycopy(dOut, 0, deltas[layers - 1].data, 0, rows * sizes[layers]);
    int end = grad.length;
    for (int l = layers - 1; l >= 0; l--) {
      int in = sizes[l];
      int out = sizes[l + 1];
      int p = end - (out * in + out);
      CommonOps_DDRM.multTransA(deltas[l], acts[l], gw[l]);
      double[] g = gw[l].data;
      for (int q = 0; q < out * in; q++) {
        grad[p + q] += g[q];
      }
      double[] d = deltas[l].data;
      for (int r = 0; r < rows; r++) {
        for (int i = 0; i < out; i++) {
          grad[p + out * in + i] += d[r * out + i];
        }
      }
      if (l > 0) {
        CommonOps_DDRM.mult(deltas[l], w[l], deltas[l - 1]);
        double[] prev = deltas[l - 1].data;
        double[] a = acts[l].data;
        for (int q = 0; q < rows * in; q++) {
          prev[q] *= 1.0 - a[q] * a[q];
        }
      }
      end = p;
    }
  }
}
