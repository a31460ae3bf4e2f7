package io.dsogym.oracle;

import io.dsogym.linalg.Shapes;

import io.dsogym.linalg.Vectors;
import java.util.SplittableRandom;

/**
 * The oracles' finite-horizon chain: P_t(y|x,θ) = softmax_y(Phi_t[x][y]·θ) for t < T and
 * L_t(x,θ) = c_t[x] + Psi_t[x]·θ for t ≤ T (the oracle's case has Psi_t = Psi for t < T and a
 * θ-free final cost, see {@link #withSharedCostFeatures}).
 */
public final class TimeIndexedSoftmaxChain implements TimeIndexedTabularChain {
  private final int numStates;
  private final int numParams;
  private final int horizon;
  private final double[] p0;
  private final double[][][][] phiT;
  private final double[][] cT;
  private final double[][][] psiT;

  /**
   * @param p0 [n]
   * @param phiT [T][n][n][k]
   * @param cT [T+1][n]
   * @param psiT [T+1][n][k]
   */
  public TimeIndexedSoftmaxChain(double[] p0, double[][][][] phiT, double[][] cT,
      double[][][] psiT) {
    this.numStates = p0.length;
    this.horizon = phiT.length;
    if (horizon < 1) {
      throw new IllegalArgumentException("Phi_t: expected T >= 1 time steps, got " + horizon);
    }
    this.numParams = phiT[0][0][0].length;
    Shapes.distribution("P0", p0);
    for (int t = 0; t < horizon; t++) {
      Shapes.tensor3("Phi_t[" + t + "]", phiT[t], numStates, numStates, numParams);
    }
    Shapes.matrix("c_t", cT, horizon + 1, numStates);
    if (psiT.length != horizon + 1) {
      throw new IllegalArgumentException("Psi_t: expected T+1 = " + (horizon + 1)
          + " time steps, got " + psiT.length);
    }
    for (int t = 0; t <= horizon; t++) {
      Shapes.matrix("Psi_t[" + t + "]", psiT[t], numStates, numParams);
    }
    this.p0 = p0.clone();
    this.phiT = phiT;
    this.cT = cT;
    this.psiT = psiT;
  }

  /** Psi for t < T and no θ in the final cost: the oracle case chain4_finite_horizon. */
  public static TimeIndexedSoftmaxChain withSharedCostFeatures(double[] p0, double[][][][] phiT,
      double[][] cT, double[][] psi) {
    int horizon = phiT.length;
    double[][][] psiT = new double[horizon + 1][][];
    for (int t = 0; t < horizon; t++) {
      psiT[t] = psi;
    }
    psiT[horizon] = new double[psi.length][psi[0].length];
    return new TimeIndexedSoftmaxChain(p0, phiT, cT, psiT);
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
  public int horizon() {
    return horizon;
  }

  @Override
  public double[] initialDistribution() {
    return p0.clone();
  }

  @Override
  public TimeIndexedState sampleInitial(SplittableRandom rng) {
    return new TimeIndexedState(0, Softmax.sample(p0, rng));
  }

  @Override
  public Step<TimeIndexedState> step(TimeIndexedState s, double[] theta, SplittableRandom rng) {
    int y = Softmax.sample(row(s.t(), s.x(), theta), rng);
    return new Step<>(new TimeIndexedState(s.t() + 1, y), null);
  }

  @Override
  public void score(TimeIndexedState s, TimeIndexedState next, double[] latent, double[] theta,
      double weight, double[] gradAccum) {
    double[][] features = phiT[s.t()][s.x()];
    double[] mean = Softmax.meanFeature(features, row(s.t(), s.x(), theta));
    for (int k = 0; k < numParams; k++) {
      gradAccum[k] += weight * (features[next.x()][k] - mean[k]);
    }
  }

  @Override
  public double logProb(TimeIndexedState s, TimeIndexedState next, double[] theta) {
    return Math.log(row(s.t(), s.x(), theta)[next.x()]);
  }

  @Override
  public double cost(TimeIndexedState s, double[] theta) {
    return cT[s.t()][s.x()] + Vectors.dot(psiT[s.t()][s.x()], theta);
  }

  @Override
  public void costGradient(TimeIndexedState s, double[] theta, double weight,
      double[] gradAccum) {
    double[] psi = psiT[s.t()][s.x()];
    for (int k = 0; k < numParams; k++) {
      gradAccum[k] += weight * psi[k];
    }
  }

  @Override
  public boolean isTerminal(TimeIndexedState s) {
    return s.t() >= horizon;
  }

  @Override
  public double[][] transitionMatrix(int t, double[] theta) {
    double[][] p = new double[numStates][];
    for (int x = 0; x < numStates; x++) {
      p[x] = row(t, x, theta);
    }
    return p;
  }

  @Override
  public double[] costVector(int t, double[] theta) {
    double[] l = new double[numStates];
    for (int x = 0; x < numStates; x++) {
      l[x] = cost(new TimeIndexedState(t, x), theta);
    }
    return l;
  }

  @Override
  public double[][] costGradients(int t, double[] theta) {
    double[][] g = new double[numStates][];
    for (int x = 0; x < numStates; x++) {
      g[x] = psiT[t][x].clone();
    }
    return g;
  }

  @Override
  public double[][][] scores(int t, double[] theta) {
    double[][][] s = new double[numStates][numStates][numParams];
    for (int x = 0; x < numStates; x++) {
      double[] mean = Softmax.meanFeature(phiT[t][x], row(t, x, theta));
      for (int y = 0; y < numStates; y++) {
        for (int k = 0; k < numParams; k++) {
          s[x][y][k] = phiT[t][x][y][k] - mean[k];
        }
      }
    }
    return s;
  }

  private double[] row(int t, int x, double[] theta) {
    if (t < 0 || t >= horizon) {
      throw new IllegalArgumentException("t: expected 0 <= t < T = " + horizon + ", got " + t);
    }
    double[] p = new double[numStates];
    Softmax.probabilities(phiT[t][x], theta, null, p);
    return p;
  }
}
