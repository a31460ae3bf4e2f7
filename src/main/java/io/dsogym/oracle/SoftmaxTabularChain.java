package io.dsogym.oracle;

import io.dsogym.linalg.Shapes;

import io.dsogym.linalg.Vectors;
import java.util.SplittableRandom;

/**
 * The oracles' tabular chain (scripts/make_oracles.py): P(y|x,θ) = softmax_y(Phi[x][y]·θ)
 * and L(x,θ) = c[x] + Psi[x]·θ + ½ θᵀMθ. The same chain serves the discounted (docs/math.md §1a) and
 * the average-cost (§1b) settings; the setting belongs to the solver or estimator.
 */
public final class SoftmaxTabularChain implements TabularChain {
  private final int numStates;
  private final int numParams;
  private final double[][][] phi;
  private final double[] c;
  private final double[][] psi;
  private final double[][] mSym;
  private final double[] p0;
  private final boolean[] terminal;

  /** A chain without terminal states. */
  public SoftmaxTabularChain(double[][][] phi, double[] c, double[][] psi, double[][] m,
      double[] p0) {
    this(phi, c, psi, m, p0, null);
  }

  /**
   * @param phi [n][n][k] transition features
   * @param c [n] cost offsets
   * @param psi [n][k] linear cost features
   * @param m [k][k] quadratic cost matrix (only its symmetric part matters)
   * @param p0 [n] initial distribution
   * @param terminal [n] terminal mask, or null for none
   */
  public SoftmaxTabularChain(double[][][] phi, double[] c, double[][] psi, double[][] m,
      double[] p0, boolean[] terminal) {
    this.numStates = c.length;
    this.numParams = m.length;
    Shapes.tensor3("Phi", phi, numStates, numStates, numParams);
    Shapes.matrix("Psi", psi, numStates, numParams);
    Shapes.matrix("M", m, numParams, numParams);
    Shapes.length("P0", p0, numStates);
    Shapes.distribution("P0", p0);
    if (terminal != null && terminal.length != numStates) {
      throw new IllegalArgumentException("terminal: expected length " + numStates + ", got "
          + terminal.length);
    }
    this.phi = phi;
    this.c = c.clone();
    this.psi = psi;
    this.mSym = new double[numParams][numParams];
    for (int a = 0; a < numParams; a++) {
      for (int b = 0; b < numParams; b++) {
        mSym[a][b] = 0.5 * (m[a][b] + m[b][a]);
      }
    }
    this.p0 = p0.clone();
    this.terminal = terminal == null ? new boolean[numStates] : terminal.clone();
  }

  @Override
  public int numParams() {
    return numParams;
  }

  @Override
  public int numStates() {
    return numStates;
  }

  @Override
  public double[] initialDistribution() {
    return p0.clone();
  }

  @Override
  public Integer sampleInitial(SplittableRandom rng) {
    return Softmax.sample(p0, rng);
  }

  @Override
  public Step<Integer> step(Integer x, double[] theta, SplittableRandom rng) {
    return new Step<>(Softmax.sample(row(x, theta), rng), null);
  }

  @Override
  public void score(Integer x, Integer next, double[] latent, double[] theta, double weight,
      double[] gradAccum) {
    double[] mean = Softmax.meanFeature(phi[x], row(x, theta));
    double[] f = phi[x][next];
    for (int k = 0; k < numParams; k++) {
      gradAccum[k] += weight * (f[k] - mean[k]);
    }
  }

  @Override
  public double logProb(Integer x, Integer next, double[] theta) {
    return Math.log(row(x, theta)[next]);
  }

  @Override
  public double cost(Integer x, double[] theta) {
    double quadratic = 0;
    for (int a = 0; a < numParams; a++) {
      quadratic += theta[a] * Vectors.dot(mSym[a], theta);
    }
    return c[x] + Vectors.dot(psi[x], theta) + 0.5 * quadratic;
  }

  @Override
  public void costGradient(Integer x, double[] theta, double weight, double[] gradAccum) {
    for (int k = 0; k < numParams; k++) {
      gradAccum[k] += weight * (psi[x][k] + Vectors.dot(mSym[k], theta));
    }
  }

  @Override
  public boolean isTerminal(Integer x) {
    return terminal[x];
  }

  @Override
  public double[][] transitionMatrix(double[] theta) {
    double[][] p = new double[numStates][];
    for (int x = 0; x < numStates; x++) {
      p[x] = row(x, theta);
    }
    return p;
  }

  @Override
  public double[][][] scores(double[] theta) {
    double[][][] s = new double[numStates][numStates][numParams];
    for (int x = 0; x < numStates; x++) {
      double[] mean = Softmax.meanFeature(phi[x], row(x, theta));
      for (int y = 0; y < numStates; y++) {
        for (int k = 0; k < numParams; k++) {
          s[x][y][k] = phi[x][y][k] - mean[k];
        }
      }
    }
    return s;
  }

  @Override
  public double[][][][] scoreHessians(double[] theta) {
    double[][][][] h = new double[numStates][numStates][][];
    for (int x = 0; x < numStates; x++) {
      double[][] hx = Softmax.negativeFeatureCovariance(phi[x], row(x, theta));
      for (int y = 0; y < numStates; y++) {
        h[x][y] = hx;
      }
    }
    return h;
  }

  @Override
  public double[][][] costHessians(double[] theta) {
    double[][][] h = new double[numStates][][];
    for (int x = 0; x < numStates; x++) {
      h[x] = mSym;
    }
    return h;
  }

  private double[] row(int x, double[] theta) {
    double[] p = new double[numStates];
    Softmax.probabilities(phi[x], theta, null, p);
    return p;
  }
}
