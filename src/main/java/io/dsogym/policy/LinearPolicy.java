package io.dsogym.policy;

import io.dsogym.env.DType;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;
import java.util.SplittableRandom;

/**
 * A linear stochastic policy over a flat observation vector, evaluated for all lanes at once:
 * softmax(W x + b) for a Discrete action space, N(W x + b, diag(exp(2 logStd))) for a Box
 * action space (the sample is clipped to the box only when it is sent to the env).
 *
 * <p>Parameters live in one flat {@code theta}: W row-major [outputs x obsDim], then b
 * [outputs], then (Gaussian only) logStd [actDim]. Buffers are allocated once per lane count,
 * so {@link #act} allocates only its output tensor.
 */
public final class LinearPolicy {
  private final int obsDim;
  private final int outputs;
  private final Space actionSpace;
  private final boolean discrete;
  private final long discreteStart;
  private double[] obs = new double[0];
  private double[] out = new double[0];

  public LinearPolicy(EnvSpec spec) {
    if (!(spec.observationSpace() instanceof Space.Box box)) {
      throw new IllegalArgumentException("observation space: expected a Box, got "
          + spec.observationSpace());
    }
    this.obsDim = box.size();
    this.actionSpace = spec.actionSpace();
    if (actionSpace instanceof Space.Discrete d) {
      this.discrete = true;
      this.outputs = (int) d.n();
      this.discreteStart = d.start();
    } else if (actionSpace instanceof Space.Box a) {
      this.discrete = false;
      this.outputs = a.size();
      this.discreteStart = 0;
    } else {
      throw new IllegalArgumentException("action space: expected Discrete or Box, got "
          + actionSpace);
    }
  }

  public int numParams() {
    return outputs * obsDim + outputs + (discrete ? 0 : outputs);
  }

  /** Small random weights, zero biases and log-std 0. */
  public double[] initialTheta(long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[] theta = new double[numParams()];
    double scale = 1.0 / Math.sqrt(obsDim);
    for (int i = 0; i < outputs * obsDim; i++) {
      theta[i] = scale * (2 * rng.nextDouble() - 1);
    }
    return theta;
  }

  /** Samples one action per lane for batched observations [n, obsDim]. */
  public Value act(double[] theta, Tensor observations, SplittableRandom rng) {
    int n = observations.dim(0);
    if (obs.length != n * obsDim) {
      obs = new double[n * obsDim];
      out = new double[n * outputs];
    }
    observations.copyTo(obs, 0);
    int bias = outputs * obsDim;
    for (int lane = 0; lane < n; lane++) {
      for (int o = 0; o < outputs; o++) {
        double s = theta[bias + o];
        int w = o * obsDim;
        int x = lane * obsDim;
        for (int j = 0; j < obsDim; j++) {
          s += theta[w + j] * obs[x + j];
        }
        out[lane * outputs + o] = s;
      }
    }
    return discrete ? sampleSoftmax(n, rng) : sampleGaussian(theta, n, rng);
  }

  private Tensor sampleSoftmax(int n, SplittableRandom rng) {
    Tensor actions = Tensor.zeros(DType.INT64, n);
    for (int lane = 0; lane < n; lane++) {
      int base = lane * outputs;
      double max = Double.NEGATIVE_INFINITY;
      for (int o = 0; o < outputs; o++) {
        max = Math.max(max, out[base + o]);
      }
      double total = 0;
      for (int o = 0; o < outputs; o++) {
        total += Math.exp(out[base + o] - max);
      }
      double u = rng.nextDouble() * total;
      int chosen = outputs - 1;
      for (int o = 0; o < outputs; o++) {
        u -= Math.exp(out[base + o] - max);
        if (u <= 0) {
          chosen = o;
          break;
        }
      }
      actions.setLong(lane, discreteStart + chosen);
    }
    return actions;
  }

  private Tensor sampleGaussian(double[] theta, int n, SplittableRandom rng) {
    Space.Box box = (Space.Box) actionSpace;
    Tensor actions = Tensor.zeros(box.dtype(), n, outputs);
    int logStd = outputs * obsDim + outputs;
    for (int lane = 0; lane < n; lane++) {
      for (int o = 0; o < outputs; o++) {
        double a = out[lane * outputs + o] + Math.exp(theta[logStd + o]) * gaussian(rng);
        double clipped = Math.max(box.low()[o], Math.min(box.high()[o], a));
        actions.setDouble(lane * outputs + o, clipped);
      }
    }
    return actions;
  }

  private static double gaussian(SplittableRandom rng) {
    // Box-Muller; one of the pair is enough here.
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }
}
