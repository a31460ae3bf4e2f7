package io.dsogym.policy;

import java.util.SplittableRandom;

/**
 * A test-only {@link Policy}: the MLP of {@link PolicySpec}'s theta layout written plainly
 * (no score), standing in for the engine's policy until it is merged. Tests of worker-side
 * inference need the function, the sampler and ln pi, never the gradient.
 */
public final class ReferenceMlpPolicy implements Policy {
  private final PolicySpec spec;
  private final int[] sizes;
  private final double[][] act;

  public ReferenceMlpPolicy(PolicySpec spec) {
    this.spec = spec;
    this.sizes = spec.layerSizes();
    this.act = new double[sizes.length][];
    for (int l = 0; l < sizes.length; l++) {
      act[l] = new double[sizes[l]];
    }
  }

  @Override
  public PolicySpec spec() {
    return spec;
  }

  @Override
  public double[] initialTheta(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[] theta = new double[numParams()];
    int off = 0;
    for (int l = 0; l + 1 < sizes.length; l++) {
      double scale = 1.0 / Math.sqrt(sizes[l]);
      for (int i = 0; i < sizes[l + 1] * sizes[l]; i++) {
        theta[off + i] = scale * (2 * rng.nextDouble() - 1);
      }
      off += sizes[l + 1] * sizes[l] + sizes[l + 1];
    }
    return theta;  // biases and logStd 0
  }

  /** The output layer (logits or means) at x, into act[last]. */
  private double[] forward(double[] theta, double[] x, int xOff) {
    System.arraycopy(x, xOff, act[0], 0, sizes[0]);
    int off = 0;
    int last = sizes.length - 1;
    for (int l = 0; l < last; l++) {
      int in = sizes[l];
      int out = sizes[l + 1];
      int bias = off + out * in;
      for (int o = 0; o < out; o++) {
        double s = theta[bias + o];
        for (int j = 0; j < in; j++) {
          s += theta[off + o * in + j] * act[l][j];
        }
        if (l + 1 < last) {
          s = spec.activation() == PolicySpec.Activation.TANH ? Math.tanh(s) : Math.max(0, s);
        }
        act[l + 1][o] = s;
      }
      off = bias + out;
    }
    return act[last];
  }

  private int logStdOffset() {
    return spec.netParams();
  }

  @Override
  public double sample(double[] theta, double[] x, int xOff, SplittableRandom rng,
      double[] action, int aOff) {
    double[] out = forward(theta, x, xOff);
    if (spec.head() == PolicySpec.Head.CATEGORICAL) {
      double max = Double.NEGATIVE_INFINITY;
      for (double v : out) {
        max = Math.max(max, v);
      }
      double total = 0;
      for (double v : out) {
        total += Math.exp(v - max);
      }
      double u = rng.nextDouble() * total;
      int chosen = out.length - 1;
      for (int o = 0; o < out.length; o++) {
        u -= Math.exp(out[o] - max);
        if (u <= 0) {
          chosen = o;
          break;
        }
      }
      action[aOff] = chosen;
    } else {
      int ls = logStdOffset();
      for (int o = 0; o < out.length; o++) {
        action[aOff + o] = out[o] + Math.exp(theta[ls + o]) * rng.nextGaussian();
      }
    }
    return logProb(theta, x, xOff, action, aOff);
  }

  @Override
  public double logProb(double[] theta, double[] x, int xOff, double[] action, int aOff) {
    double[] out = forward(theta, x, xOff);
    if (spec.head() == PolicySpec.Head.CATEGORICAL) {
      double max = Double.NEGATIVE_INFINITY;
      for (double v : out) {
        max = Math.max(max, v);
      }
      double total = 0;
      for (double v : out) {
        total += Math.exp(v - max);
      }
      return out[(int) action[aOff]] - max - Math.log(total);
    }
    int ls = logStdOffset();
    double lp = 0;
    for (int o = 0; o < out.length; o++) {
      double u = (action[aOff + o] - out[o]) * Math.exp(-theta[ls + o]);
      lp += -0.5 * u * u - theta[ls + o] - 0.5 * Math.log(2 * Math.PI);
    }
    return lp;
  }

  @Override
  public double accumulateScore(double[] theta, double[] x, int xOff, double[] action,
      int aOff, double weight, double[] grad) {
    throw new UnsupportedOperationException("the test-only reference policy has no score");
  }

  @Override
  public void mode(double[] theta, double[] x, int xOff, double[] action, int aOff) {
    double[] out = forward(theta, x, xOff);
    if (spec.head() == PolicySpec.Head.CATEGORICAL) {
      int best = 0;
      for (int o = 1; o < out.length; o++) {
        if (out[o] > out[best]) {
          best = o;
        }
      }
      action[aOff] = best;
    } else {
      System.arraycopy(out, 0, action, aOff, out.length);
    }
  }

  @Override
  public void distributionParams(double[] theta, double[] x, int xOff, double[] out) {
    double[] o = forward(theta, x, xOff);
    System.arraycopy(o, 0, out, 0, o.length);
    if (spec.head() == PolicySpec.Head.GAUSSIAN) {
      System.arraycopy(theta, logStdOffset(), out, o.length, o.length);
    }
  }
}
