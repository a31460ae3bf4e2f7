package io.dsogym.policy;

import java.util.SplittableRandom;

/**
 * The policy families of the engine over one {@link Mlp} (a linear policy is the MLP with no
 * hidden layer): a softmax over logits for discrete actions, or a diagonal Gaussian with a
 * state-independent log standard deviation for continuous ones. ln pi and its score are
 * analytic; the score is the sampled-action score of docs/math.md §2c route 2.
 */
public final class MlpPolicy implements Policy {
  private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);
  /** Minibatch rows per pass of the network: its activations stay in the L2 cache. */
  private static final int BLOCK = 256;

  private final PolicySpec spec;
  private final Mlp net;
  private final double initLogStd;
  private final int logStdOffset;
  private final double[] out;
  /** weight · ∂ln π/∂outputs of a block of rows, where backpropagation starts. */
  private final double[] deltas;
  /** One row's distribution parameters and a function's derivative in them. */
  private final double[] rowParams;
  private final double[] rowDParams;

  /** @param initLogStd the Gaussian head's initial log standard deviation (unused otherwise) */
  public MlpPolicy(PolicySpec spec, double initLogStd) {
    this.spec = spec;
    this.net = new Mlp(spec.layerSizes(), spec.activation());
    this.initLogStd = initLogStd;
    this.logStdOffset = spec.netParams();
    this.out = new double[spec.outputs()];
    this.deltas = new double[BLOCK * spec.outputs()];
    this.rowParams = new double[paramsWidth()];
    this.rowDParams = new double[paramsWidth()];
  }

  @Override
  public PolicySpec spec() {
    return spec;
  }

  private boolean categorical() {
    return spec.head() == PolicySpec.Head.CATEGORICAL;
  }

  @Override
  public double[] initialTheta(long seed) {
    double[] theta = new double[spec.numParams()];
    net.initialize(theta, 0, new SplittableRandom(seed), 0.01);
    if (!categorical()) {
      for (int j = 0; j < spec.outputs(); j++) {
        theta[logStdOffset + j] = initLogStd;
      }
    }
    return theta;
  }

  /** out = logits or means; returns log-sum-exp of the logits (categorical) or 0. */
  private double evaluate(double[] theta, double[] x, int xOff) {
    net.forward(theta, 0, x, xOff, out, 0);
    return logSumExp(out, 0);
  }

  /** log-sum-exp of the logits at outs[off..] (categorical), or 0. */
  private double logSumExp(double[] outs, int off) {
    if (!categorical()) {
      return 0.0;
    }
    int k = out.length;
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < k; j++) {
      max = Math.max(max, outs[off + j]);
    }
    double s = 0;
    for (int j = 0; j < k; j++) {
      s += Math.exp(outs[off + j] - max);
    }
    return max + Math.log(s);
  }

  @Override
  public double sample(double[] theta, double[] x, int xOff, SplittableRandom rng,
      double[] action, int aOff) {
    double lse = evaluate(theta, x, xOff);
    if (categorical()) {
      double u = rng.nextDouble();
      int chosen = out.length - 1;
      for (int k = 0; k < out.length; k++) {
        u -= Math.exp(out[k] - lse);
        if (u < 0) {
          chosen = k;
          break;
        }
      }
      action[aOff] = chosen;
      return out[chosen] - lse;
    }
    double logp = 0;
    for (int j = 0; j < out.length; j++) {
      double logStd = theta[logStdOffset + j];
      double eps = gaussian(rng);
      action[aOff + j] = out[j] + Math.exp(logStd) * eps;
      logp += -0.5 * eps * eps - logStd - HALF_LOG_2PI;
    }
    return logp;
  }

  @Override
  public double logProb(double[] theta, double[] x, int xOff, double[] action, int aOff) {
    net.forward(theta, 0, x, xOff, out, 0);
    return headLogProb(theta, out, 0, action, aOff);
  }

  /** ln π(a|x) from the network's outputs at outs[off..]. */
  private double headLogProb(double[] theta, double[] outs, int off, double[] action,
      int aOff) {
    double lse = logSumExp(outs, off);
    if (categorical()) {
      return outs[off + checkedIndex(action[aOff])] - lse;
    }
    double logp = 0;
    for (int j = 0; j < out.length; j++) {
      double logStd = theta[logStdOffset + j];
      double e = (action[aOff + j] - outs[off + j]) * Math.exp(-logStd);
      logp += -0.5 * e * e - logStd - HALF_LOG_2PI;
    }
    return logp;
  }

  @Override
  public double accumulateScore(double[] theta, double[] x, int xOff, double[] action,
      int aOff, double weight, double[] grad) {
    net.forward(theta, 0, x, xOff, out, 0);
    double logp = headScore(theta, out, 0, action, aOff, weight, deltas, 0, grad);
    net.backward(theta, 0, deltas, 0, grad);
    return logp;
  }

  /**
   * From the network's outputs at outs[off..]: delta[dOff..] = weight · ∂ln π/∂outputs (what
   * backpropagation starts from), grad += weight · ∂ln π/∂log σ (Gaussian); returns ln π.
   */
  private double headScore(double[] theta, double[] outs, int off, double[] action, int aOff,
      double weight, double[] delta, int dOff, double[] grad) {
    double lse = logSumExp(outs, off);
    if (categorical()) {
      int a = checkedIndex(action[aOff]);
      // d ln softmax_a / d logit_k = 1[k = a] - p_k
      for (int k = 0; k < out.length; k++) {
        delta[dOff + k] = weight * ((k == a ? 1.0 : 0.0) - Math.exp(outs[off + k] - lse));
      }
      return outs[off + a] - lse;
    }
    double logp = 0;
    for (int j = 0; j < out.length; j++) {
      double logStd = theta[logStdOffset + j];
      double invVar = Math.exp(-2 * logStd);
      double diff = action[aOff + j] - outs[off + j];
      double e2 = diff * diff * invVar;
      logp += -0.5 * e2 - logStd - HALF_LOG_2PI;
      delta[dOff + j] = weight * (diff * invVar);    // d ln pi / d mean_j
      grad[logStdOffset + j] += weight * (e2 - 1);  // d ln pi / d logStd_j
    }
    return logp;
  }

  @Override
  public void logProbs(double[] theta, double[] obs, double[] actions, int[] index, int from,
      int to, double[] logProb) {
    int k = out.length;
    int actionDim = spec.actionDim();
    for (int b = from; b < to; b += BLOCK) {
      int e = Math.min(to, b + BLOCK);
      double[] outs = net.forwardRows(theta, 0, obs, index, b, e);
      for (int q = b; q < e; q++) {
        logProb[q - from] = headLogProb(theta, outs, (q - b) * k, actions,
            index[q] * actionDim);
      }
    }
  }

  @Override
  public void accumulateScores(double[] theta, double[] obs, double[] actions, int[] index,
      int from, int to, double[] weight, double[] grad, double[] logProb) {
    int k = out.length;
    int actionDim = spec.actionDim();
    for (int b = from; b < to; b += BLOCK) {
      int e = Math.min(to, b + BLOCK);
      double[] outs = net.forwardRows(theta, 0, obs, index, b, e);
      for (int q = b; q < e; q++) {
        double logp = headScore(theta, outs, (q - b) * k, actions, index[q] * actionDim,
            weight[q - from], deltas, (q - b) * k, grad);
        if (logProb != null) {
          logProb[q - from] = logp;
        }
      }
      net.backward(theta, 0, deltas, 0, grad);
    }
  }

  @Override
  public void accumulateWeightedScores(double[] theta, double[] obs, double[] actions,
      int[] index, int from, int to, RowWeight weight, double[] logProb, double[] grad) {
    int k = out.length;
    int actionDim = spec.actionDim();
    for (int b = from; b < to; b += BLOCK) {
      int e = Math.min(to, b + BLOCK);
      double[] outs = net.forwardRows(theta, 0, obs, index, b, e);
      for (int q = b; q < e; q++) {
        int aOff = index[q] * actionDim;
        double logp = headLogProb(theta, outs, (q - b) * k, actions, aOff);
        logProb[q - from] = logp;
        headScore(theta, outs, (q - b) * k, actions, aOff, weight.of(q, logp), deltas,
            (q - b) * k, grad);
      }
      net.backward(theta, 0, deltas, 0, grad);
    }
  }

  @Override
  public void mode(double[] theta, double[] x, int xOff, double[] action, int aOff) {
    evaluate(theta, x, xOff);
    if (categorical()) {
      int best = 0;
      for (int k = 1; k < out.length; k++) {
        if (out[k] > out[best]) {
          best = k;
        }
      }
      action[aOff] = best;
    } else {
      System.arraycopy(out, 0, action, aOff, out.length);
    }
  }

  @Override
  public void distributionParams(double[] theta, double[] x, int xOff, double[] params) {
    evaluate(theta, x, xOff);
    System.arraycopy(out, 0, params, 0, out.length);
    if (!categorical()) {
      System.arraycopy(theta, logStdOffset, params, out.length, out.length);
    }
  }

  @Override
  public void accumulateParamsGradient(double[] theta, double[] x, int xOff, double[] dParams,
      double weight, double[] grad) {
    evaluate(theta, x, xOff);  // caches the activations backward needs
    if (!categorical()) {
      for (int j = 0; j < out.length; j++) {
        grad[logStdOffset + j] += weight * dParams[out.length + j];
      }
    }
    net.backward(theta, 0, dParams, 0, weight, grad);
  }

  @Override
  public void accumulateParamsFunction(double[] theta, double[] obs, int[] index, int from,
      int to, ParamsFunction f, double[] weight, double[] grad, double[] values) {
    int k = out.length;
    boolean gaussian = !categorical();
    for (int b = from; b < to; b += BLOCK) {
      int e = Math.min(to, b + BLOCK);
      double[] outs = net.forwardRows(theta, 0, obs, index, b, e);
      for (int q = b; q < e; q++) {
        System.arraycopy(outs, (q - b) * k, rowParams, 0, k);
        if (gaussian) {
          System.arraycopy(theta, logStdOffset, rowParams, k, k);
        }
        values[q - from] = f.apply(index[q], rowParams, grad == null ? null : rowDParams);
        if (grad != null) {
          double w = weight[q - from];
          for (int j = 0; j < k; j++) {
            deltas[(q - b) * k + j] = w * rowDParams[j];
          }
          if (gaussian) {
            for (int j = 0; j < k; j++) {
              grad[logStdOffset + j] += w * rowDParams[k + j];
            }
          }
        }
      }
      if (grad != null) {
        net.backward(theta, 0, deltas, 0, grad);
      }
    }
  }

  /** The mean entropy of the action distribution at x (nats). */
  public double entropy(double[] theta, double[] x, int xOff) {
    double lse = evaluate(theta, x, xOff);
    double h = 0;
    if (categorical()) {
      for (double v : out) {
        double p = Math.exp(v - lse);
        h -= p * (v - lse);
      }
      return h;
    }
    for (int j = 0; j < out.length; j++) {
      h += theta[logStdOffset + j] + 0.5 + HALF_LOG_2PI;
    }
    return h;
  }

  private int checkedIndex(double a) {
    int i = (int) a;
    if (i != a || i < 0 || i >= out.length) {
      throw new IllegalArgumentException("action: expected an index in [0, " + out.length
          + "), got " + a);
    }
    return i;
  }

  /** A standard normal draw (Box-Muller, one of the pair). */
  static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }
}
