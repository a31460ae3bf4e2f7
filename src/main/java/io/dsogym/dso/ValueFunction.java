package io.dsogym.dso;

import io.dsogym.policy.Mlp;
import io.dsogym.policy.PolicySpec;

import io.dsogym.optim.Adam;
import java.util.List;
import java.util.SplittableRandom;

/**
 * V̂, the critic of Algorithm 1 (docs/math.md §3d): an MLP with one output over normalized
 * observations (linear when {@code hidden} is empty), fit by minibatch Adam on mean squared
 * error to the targets of the previous batch.
 */
public final class ValueFunction {
  private final Mlp net;
  private final Adam adam;
  private final double[] theta;
  /** Rows per pass of the network in predictions: its activations stay in the L2 cache. */
  private static final int BLOCK = 256;
  private final double[] out = new double[1];
  private final double[] grad;
  private double[] errors = new double[0];
  private int[] order = new int[0];

  public ValueFunction(int obsDim, List<Integer> hidden, PolicySpec.Activation activation,
      double learningRate, long seed) {
    int[] sizes = new int[hidden.size() + 2];
    sizes[0] = obsDim;
    for (int i = 0; i < hidden.size(); i++) {
      sizes[i + 1] = hidden.get(i);
    }
    sizes[sizes.length - 1] = 1;
    this.net = new Mlp(sizes, activation);
    this.theta = new double[net.numParams()];
    this.grad = new double[net.numParams()];
    net.initialize(theta, 0, new SplittableRandom(seed), 1.0);
    this.adam = new Adam(learningRate);
  }

  /** The length of V̂'s input. */
  public int inputs() {
    return net.inputs();
  }

  public double predict(double[] x, int xOff) {
    net.forward(theta, 0, x, xOff, out, 0);
    return out[0];
  }

  /** out[r] = V̂(row r of xs), rows of {@code obsDim}, as matrix products. */
  public void predictBatch(double[] xs, int rows, double[] values) {
    int d = net.inputs();
    for (int r = 0; r < rows; r += BLOCK) {
      net.forward(theta, 0, xs, r * d, Math.min(BLOCK, rows - r), values, r);
    }
  }

  /**
   * Minimizes the mean squared error to {@code targets} with {@code epochs} passes of shuffled
   * minibatches; returns the mean squared error of the last pass (before its updates).
   */
  public double fit(double[] xs, double[] targets, int rows, int epochs, int minibatch,
      SplittableRandom rng) {
    if (order.length != rows) {
      order = new int[rows];
    }
    for (int i = 0; i < rows; i++) {  // every fit shuffles from the identity: reproducible
      order[i] = i;
    }
    if (errors.length < Math.min(rows, minibatch)) {
      errors = new double[Math.min(rows, minibatch)];
    }
    double lastLoss = Double.NaN;
    for (int e = 0; e < epochs; e++) {
      for (int i = rows - 1; i > 0; i--) {
        int j = rng.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      double loss = 0;
      for (int start = 0; start < rows; start += minibatch) {
        int end = Math.min(rows, start + minibatch);
        java.util.Arrays.fill(grad, 0);
        double[] predictions = net.forwardRows(theta, 0, xs, order, start, end);
        double weight = 2.0 / (end - start);
        for (int k = start; k < end; k++) {
          double err = predictions[k - start] - targets[order[k]];
          loss += err * err;
          errors[k - start] = weight * err;
        }
        net.backward(theta, 0, errors, 0, grad);
        adam.step(theta, grad);
      }
      lastLoss = loss / rows;
    }
    return lastLoss;
  }

  /**
   * Multiplies every prediction by {@code factor}, exactly: the output layer's weights and bias
   * are scaled, and Adam's moments of them with them (m by factor, v by factor²), so a fit in
   * progress continues in the new units. The trainer fits V̂ to targets divided by a running
   * scale; when that scale moves, this keeps V̂'s predictions in absolute units unchanged
   * (the "preserve outputs" half of PopArt).
   */
  public void scaleOutput(double factor) {
    if (!(factor > 0) || Double.isInfinite(factor)) {
      throw new IllegalArgumentException("factor: expected a finite positive scale, got "
          + factor);
    }
    int[] sizes = net.sizes();
    int outputParams = sizes[sizes.length - 2] + 1;  // one output: its weight row and bias
    int from = theta.length - outputParams;
    double[] m = adam.m();
    double[] v = adam.v();
    for (int k = from; k < theta.length; k++) {
      theta[k] *= factor;
      if (m.length == theta.length) {
        m[k] *= factor;
        v[k] *= factor * factor;
      }
    }
    if (m.length == theta.length) {
      adam.restore(m, v, adam.steps());
    }
  }

  public double[] theta() {
    return theta.clone();
  }

  public double[] adamM() {
    return adam.m();
  }

  public double[] adamV() {
    return adam.v();
  }

  public long adamSteps() {
    return adam.steps();
  }

  /** Restores V̂'s parameters and optimizer (a checkpoint). */
  public void restore(double[] savedTheta, double[] m, double[] v, long steps) {
    if (savedTheta.length != theta.length) {
      throw new IllegalArgumentException("value theta: expected " + theta.length
          + " parameters, got " + savedTheta.length);
    }
    System.arraycopy(savedTheta, 0, theta, 0, theta.length);
    adam.restore(m, v, steps);
  }
}
