package io.dsogym.policy;

import java.util.SplittableRandom;

/**
 * A multilayer perceptron over a slice of a flat parameter vector, in the layout of
 * {@link PolicySpec}: per layer, W row-major [out x in] then b [out]; hidden layers apply the
 * activation, the output layer is linear. {@link #forward} keeps every layer's activations,
 * so {@link #backward} right after it needs no recomputation. Buffers are allocated once.
 */
public final class Mlp {
  private final int[] sizes;
  private final PolicySpec.Activation activation;
  private final double[][] acts;    // acts[l]: the input of layer l (acts[0] is x)
  private final double[][] deltas;  // deltas[l]: d(out)/d(pre-activation of layer l's output)
  private final int numParams;

  public Mlp(int[] sizes, PolicySpec.Activation activation) {
    this.sizes = sizes.clone();
    this.activation = activation;
    int layers = sizes.length - 1;
    acts = new double[layers + 1][];
    deltas = new double[layers][];
    int n = 0;
    for (int l = 0; l <= layers; l++) {
      acts[l] = new double[sizes[l]];
      if (l < layers) {
        deltas[l] = new double[sizes[l + 1]];
        n += sizes[l + 1] * sizes[l] + sizes[l + 1];
      }
    }
    this.numParams = n;
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
    System.arraycopy(x, xOff, acts[0], 0, sizes[0]);
    int p = off;
    int layers = sizes.length - 1;
    for (int l = 0; l < layers; l++) {
      int in = sizes[l];
      int outN = sizes[l + 1];
      double[] a = acts[l];
      double[] z = acts[l + 1];
      int bias = p + outN * in;
      boolean hidden = l < layers - 1;
      for (int i = 0; i < outN; i++) {
        double s = theta[bias + i];
        int w = p + i * in;
        for (int j = 0; j < in; j++) {
          s += theta[w + j] * a[j];
        }
        z[i] = hidden ? activate(s) : s;
      }
      p = bias + outN;
    }
    System.arraycopy(acts[layers], 0, out, outOff, sizes[layers]);
  }

  /**
   * grad[off..] += weight * d(dOut · net(x))/dθ at the x of the last {@link #forward}
   * (backpropagation).
   */
  public void backward(double[] theta, int off, double[] dOut, int dOff, double weight,
      double[] grad) {
    int layers = sizes.length - 1;
    double[] d = deltas[layers - 1];
    for (int i = 0; i < sizes[layers]; i++) {
      d[i] = weight * dOut[dOff + i];
    }
    int end = off + numParams;
    for (int l = layers - 1; l >= 0; l--) {
      int in = sizes[l];
      int outN = sizes[l + 1];
      int p = end - (outN * in + outN);  // this layer's weights
      int bias = p + outN * in;
      double[] a = acts[l];
      double[] delta = deltas[l];
      for (int i = 0; i < outN; i++) {
        double di = delta[i];
        if (di == 0.0) {
          continue;
        }
        int w = p + i * in;
        for (int j = 0; j < in; j++) {
          grad[w + j] += di * a[j];
        }
        grad[bias + i] += di;
      }
      if (l > 0) {
        double[] prev = deltas[l - 1];
        for (int j = 0; j < in; j++) {
          double s = 0;
          for (int i = 0; i < outN; i++) {
            s += theta[p + i * in + j] * delta[i];
          }
          prev[j] = s * derivativeAt(a[j]);
        }
      }
      end = p;
    }
  }

  private double activate(double s) {
    return activation == PolicySpec.Activation.TANH ? tanh(s) : Math.max(0.0, s);
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

  /** The activation's derivative, written in terms of its output y. */
  private double derivativeAt(double y) {
    return activation == PolicySpec.Activation.TANH ? 1.0 - y * y : (y > 0 ? 1.0 : 0.0);
  }
}
