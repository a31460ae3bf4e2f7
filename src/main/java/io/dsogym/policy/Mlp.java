package io.dsogym.policy;

import io.dsogym.linalg.RowMatrices;
import java.util.SplittableRandom;

/**
 * A multilayer perceptron over a slice of a flat parameter vector, in the layout of
 * {@link PolicySpec}: per layer, W row-major [out x in] then b [out]; hidden layers apply the
 * activation, the output layer is linear. {@link #forward} keeps every layer's activations,
 * so {@link #backward} right after it needs no recomputation.
 *
 * <p>Both passes run over a batch of rows (one transition per row) as matrix products
 * ({@link RowMatrices}): the forward pass Z = A Wᵀ + b, the backward pass ∇W += Δᵀ A,
 * ∇b += Σ Δ and Δ_prev = (Δ W) ⊙ act'(A). W, Wᵀ and Δᵀ are copied into row arrays once per
 * layer and call, which is what lets the JIT vectorize the products (EJML's products, on flat
 * arrays, measured about 3x slower: docs/results.md). Every sum runs in the order of a
 * row-by-row evaluation, so a batch equals its rows evaluated one at a time up to the order in
 * which a batch's gradient is added to {@code grad}. A single row is a batch of one.
 * Workspaces grow to the largest batch seen and are reused: no allocation per call.
 */
public final class Mlp {
  private final int[] sizes;
  private final PolicySpec.Activation activation;
  private final int numParams;
  private final double[][][] weights;     // per layer: W [out][in]
  private final double[][][] transposed;  // per layer: Wᵀ [in][out]
  private final double[][][] weightGrad;  // per layer: a batch's ∇W [out][in]
  private final double[][] biasGrad;      // per layer: a batch's ∇b [out]
  private final double[] rowOut;          // one row's outputs (single-row backward's deltas)
  private double[][][] acts;    // acts[l][r]: the input of layer l for row r (acts[0] is x)
  private double[][][] deltas;  // deltas[l][r]: d(out)/d(layer l's pre-activations), row r
  private double[][][] deltasT; // deltasT[l][i]: deltas[l] transposed, [out][rows]
  private double[] outputs;     // the last forward's outputs, rows x outputs
  private int capacity;
  private int lastRows;

  public Mlp(int[] sizes, PolicySpec.Activation activation) {
    this.sizes = sizes.clone();
    this.activation = activation;
    int layers = sizes.length - 1;
    weights = new double[layers][][];
    transposed = new double[layers][][];
    weightGrad = new double[layers][][];
    biasGrad = new double[layers][];
    int n = 0;
    for (int l = 0; l < layers; l++) {
      n += sizes[l + 1] * sizes[l] + sizes[l + 1];
      weights[l] = new double[sizes[l + 1]][sizes[l]];
      transposed[l] = new double[sizes[l]][sizes[l + 1]];
      weightGrad[l] = new double[sizes[l + 1]][sizes[l]];
      biasGrad[l] = new double[sizes[l + 1]];
    }
    this.numParams = n;
    this.rowOut = new double[sizes[layers]];
    ensureCapacity(1);
  }

  private void ensureCapacity(int rows) {
    if (rows <= capacity) {
      return;
    }
    int layers = sizes.length - 1;
    acts = new double[layers + 1][][];
    deltas = new double[layers][][];
    deltasT = new double[layers][][];
    for (int l = 0; l <= layers; l++) {
      acts[l] = new double[rows][sizes[l]];
      if (l < layers) {
        deltas[l] = new double[rows][sizes[l + 1]];
        deltasT[l] = new double[sizes[l + 1]][rows];
      }
    }
    outputs = new double[rows * sizes[layers]];
    capacity = rows;
  }

  /** The layer sizes [inputs, hidden..., outputs]. */
  public int[] sizes() {
    return sizes.clone();
  }

  public int numParams() {
    return numParams;
  }

  public int inputs() {
    return sizes[0];
  }

  public int outputs() {
    return sizes[sizes.length - 1];
  }

  /**
   * Glorot-uniform hidden layers (He-uniform for relu), zero biases, and the output layer's
   * weights scaled by {@code outputScale} (0.01 for a policy: a near-uniform start).
   */
  public void initialize(double[] theta, int off, SplittableRandom rng, double outputScale) {
    int p = off;
    int layers = sizes.length - 1;
    for (int l = 0; l < layers; l++) {
      int in = sizes[l];
      int out = sizes[l + 1];
      double limit = activation == PolicySpec.Activation.RELU && l < layers - 1
          ? Math.sqrt(6.0 / in) : Math.sqrt(6.0 / (in + out));
      double k = l == layers - 1 ? outputScale : 1.0;
      for (int i = 0; i < out * in; i++) {
        theta[p++] = k * limit * (2 * rng.nextDouble() - 1);
      }
      for (int i = 0; i < out; i++) {
        theta[p++] = 0.0;
      }
    }
  }

  /** out[outOff..] = net(x[xOff..]); caches the activations for {@link #backward}. */
  public void forward(double[] theta, int off, double[] x, int xOff, double[] out, int outOff) {
    forward(theta, off, x, xOff, 1, out, outOff);
  }

  /**
   * Row r of out (from outOff, rows of {@link #outputs}) = net(row r of x) (from xOff, rows of
   * {@link #inputs}), for r &lt; rows; caches the activations for {@link #backward}.
   */
  public void forward(double[] theta, int off, double[] x, int xOff, int rows, double[] out,
      int outOff) {
    ensureCapacity(rows);
    int in = sizes[0];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(x, xOff + r * in, acts[0][r], 0, in);
    }
    forwardCached(theta, off, rows);
    System.arraycopy(outputs, 0, out, outOff, rows * outputs());
  }

  /**
   * {@link #forward} of the rows {@code index[from..to)} of x (rows of {@link #inputs}), which
   * need not be contiguous: a shuffled minibatch. Returns the outputs, row k - from of which is
   * that of x's row index[k]; valid until the next call.
   */
  public double[] forwardRows(double[] theta, int off, double[] x, int[] index, int from,
      int to) {
    int rows = to - from;
    ensureCapacity(rows);
    int in = sizes[0];
    for (int k = from; k < to; k++) {
      System.arraycopy(x, index[k] * in, acts[0][k - from], 0, in);
    }
    forwardCached(theta, off, rows);
    return outputs;
  }

  private void forwardCached(double[] theta, int off, int rows) {
    lastRows = rows;
    int p = off;
    int layers = sizes.length - 1;
    for (int l = 0; l < layers; l++) {
      int in = sizes[l];
      int outN = sizes[l + 1];
      int bias = p + outN * in;
      double[][] z = acts[l + 1];
      if (rows == 1) {
        // one row (a collector's step): dot products straight from θ, in the same order as
        // the product below, which would first have to copy Wᵀ, as long as the product itself
        double[] a0 = acts[l][0];
        double[] z0 = z[0];
        for (int i = 0; i < outN; i++) {
          double s = theta[bias + i];
          int w = p + i * in;
          for (int k = 0; k < in; k++) {
            s += a0[k] * theta[w + k];
          }
          z0[i] = s;
        }
      } else {
        double[][] wt = transposed[l];
        for (int i = 0; i < outN; i++) {
          int w = p + i * in;
          for (int k = 0; k < in; k++) {
            wt[k][i] = theta[w + k];
          }
        }
        for (int r = 0; r < rows; r++) {
          System.arraycopy(theta, bias, z[r], 0, outN);
        }
        RowMatrices.multiplyAdd(acts[l], wt, z, rows, in, outN);
      }
      if (l < layers - 1) {
        for (int r = 0; r < rows; r++) {
          activate(z[r], outN);
        }
      }
      p = bias + outN;
    }
    int k = outputs();
    double[][] last = acts[layers];
    for (int r = 0; r < rows; r++) {
      System.arraycopy(last[r], 0, outputs, r * k, k);
    }
  }

  /**
   * grad[off..] += weight * d(dOut · net(x))/dθ at the x of the last {@link #forward} of one
   * row (backpropagation).
   */
  public void backward(double[] theta, int off, double[] dOut, int dOff, double weight,
      double[] grad) {
    for (int i = 0; i < rowOut.length; i++) {
      rowOut[i] = weight * dOut[dOff + i];
    }
    backward(theta, off, rowOut, 0, grad);
  }

  /**
   * grad[off..] += Σ_r d(dOut_r · net(x_r))/dθ over the rows of the last {@link #forward}
   * (rows of {@link #outputs} in dOut from dOff, each already carrying its row's weight).
   */
  public void backward(double[] theta, int off, double[] dOut, int dOff, double[] grad) {
    int k = outputs();
    double[][] top = deltas[sizes.length - 2];
    for (int r = 0; r < lastRows; r++) {
      System.arraycopy(dOut, dOff + r * k, top[r], 0, k);
    }
    int rows = lastRows;
    int end = off + numParams;
    for (int l = sizes.length - 2; l >= 0; l--) {
      int in = sizes[l];
      int outN = sizes[l + 1];
      int p = end - (outN * in + outN);  // this layer's weights
      int bias = p + outN * in;
      double[][] a = acts[l];
      double[][] delta = deltas[l];
      double[][] gw = weightGrad[l];
      double[] gb = biasGrad[l];
      for (int i = 0; i < outN; i++) {
        java.util.Arrays.fill(gw[i], 0.0);
      }
      double[][] dt = deltasT[l];  // Δᵀ, so that ∇W += Δᵀ A is a product of row arrays
      for (int r = 0; r < rows; r++) {
        double[] dr = delta[r];
        for (int i = 0; i < outN; i++) {
          dt[i][r] = dr[i];
        }
      }
      RowMatrices.multiplyAdd(dt, a, gw, outN, rows, in);
      for (int i = 0; i < outN; i++) {
        double[] dti = dt[i];
        double sum = 0;
        for (int r = 0; r < rows; r++) {
          sum += dti[r];
        }
        gb[i] = sum;
      }
      for (int i = 0; i < outN; i++) {
        double[] gwi = gw[i];
        int w = p + i * in;
        for (int j = 0; j < in; j++) {
          grad[w + j] += gwi[j];
        }
        grad[bias + i] += gb[i];
      }
      if (l > 0) {  // Δ_prev = (Δ W) ⊙ act'(A)
        double[][] wl = weights[l];
        for (int i = 0; i < outN; i++) {
          System.arraycopy(theta, p + i * in, wl[i], 0, in);
        }
        double[][] prev = deltas[l - 1];
        for (int r = 0; r < rows; r++) {
          java.util.Arrays.fill(prev[r], 0, in, 0.0);
        }
        RowMatrices.multiplyAdd(delta, wl, prev, rows, outN, in);
        for (int r = 0; r < rows; r++) {
          multiplyByDerivative(prev[r], a[r], in);
        }
      }
      end = p;
    }
  }

  private void activate(double[] z, int n) {
    if (activation == PolicySpec.Activation.TANH) {
      for (int i = 0; i < n; i++) {
        z[i] = tanh(z[i]);
      }
    } else {
      for (int i = 0; i < n; i++) {
        z[i] = Math.max(0.0, z[i]);
      }
    }
  }

  /** d[j] *= the activation's derivative, written in terms of its output y[j]. */
  private void multiplyByDerivative(double[] d, double[] y, int n) {
    if (activation == PolicySpec.Activation.TANH) {
      for (int j = 0; j < n; j++) {
        d[j] *= 1.0 - y[j] * y[j];
      }
    } else {
      for (int j = 0; j < n; j++) {
        d[j] *= y[j] > 0 ? 1.0 : 0.0;
      }
    }
  }

  /**
   * tanh through one exp: JDK 17's Math.tanh is about 3x slower and the activations dominate
   * a small MLP's cost. 1 - 2/(e^{2s}+1) is within a few ulps of tanh (the numpy mirror
   * compares at 1e-6); |s| > 20 saturates exactly as tanh does in double precision.
   */
  static double tanh(double s) {
    if (s > 20) {
      return 1.0;
    }
    if (s < -20) {
      return -1.0;
    }
    return 1.0 - 2.0 / (Math.exp(2.0 * s) + 1.0);
  }
}
