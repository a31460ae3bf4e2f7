package io.dsogym.oracle;

import io.dsogym.linalg.Shapes;

import java.util.SplittableRandom;

/**
 * A linearly-solvable MDP as a DSO chain (docs/math.md §2g): the controlled chain
 * U(y|x,θ) = softmax_y(F[x][y]·θ + ln p(y|x)) over the support of the passive dynamics p, with
 * cost L(x,θ) = q(x) + KL(U(·|x,θ) ‖ p(·|x)) off the terminal set and L = q on it (the final
 * cost of docs/math.md §1a). θ = 0 gives U = p.
 */
public final class LmdpChain implements TabularChain {
  private final int numStates;
  private final int numParams;
  private final double[][] passive;
  private final double[][] logPassive;
  private final double[] q;
  private final double[][][] features;
  private final boolean[] terminal;
  private final double[] p0;

  /**
   * @param passive [n][n] p(y|x), rows of non-terminal states are distributions
   * @param q [n] state costs
   * @param features [n][n][k]
   * @param terminal [n] terminal mask
   * @param p0 [n] initial distribution
   */
  public LmdpChain(double[][] passive, double[] q, double[][][] features, boolean[] terminal,
      double[] p0) {
    this.numStates = q.length;
    this.numParams = features[0][0].length;
    Shapes.matrix("passive", passive, numStates, numStates);
    Shapes.tensor3("features", features, numStates, numStates, numParams);
    Shapes.length("P0", p0, numStates);
    Shapes.distribution("P0", p0);
    if (terminal == null || terminal.length != numStates) {
      throw new IllegalArgumentException("terminal: expected length " + numStates + ", got "
          + (terminal == null ? "null" : terminal.length));
    }
    this.logPassive = new double[numStates][numStates];
    for (int x = 0; x < numStates; x++) {
      if (!terminal[x]) {
        Shapes.distribution("passive[" + x + "]", passive[x]);
      }
      for (int y = 0; y < numStates; y++) {
        logPassive[x][y] = passive[x][y] > 0 ? Math.log(passive[x][y]) : Double.NEGATIVE_INFINITY;
      }
    }
    this.passive = passive;
    this.q = q.clone();
    this.features = features;
    this.terminal = terminal.clone();
    this.p0 = p0.clone();
  }

  /** p(y|x) (read-only). */
  public double[][] passive() {
    return passive;
  }

  /** q(x) (a copy). */
  public double[] stateCosts() {
    return q.clone();
  }

  /** U(·|x,θ). */
  public double[] controlled(int x, double[] theta) {
    double[] u = new double[numStates];
    Softmax.probabilities(features[x], theta, logPassive[x], u);
    return u;
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
    return new Step<>(Softmax.sample(controlled(x, theta), rng), null);
  }

  @Override
  public void score(Integer x, Integer next, double[] latent, double[] theta, double weight,
      double[] gradAccum) {
    double[] mean = Softmax.meanFeature(features[x], controlled(x, theta));
    for (int k = 0; k < numParams; k++) {
      gradAccum[k] += weight * (features[x][next][k] - mean[k]);
    }
  }

  @Override
  public double logProb(Integer x, Integer next, double[] theta) {
    return Math.log(controlled(x, theta)[next]);
  }

  @Override
  public double cost(Integer x, double[] theta) {
    if (terminal[x]) {
      return q[x];
    }
    double[] u = controlled(x, theta);
    double kl = 0;
    for (int y = 0; y < numStates; y++) {
      if (u[y] > 0) {
        kl += u[y] * (Math.log(u[y]) - logPassive[x][y]);
      }
    }
    return q[x] + kl;
  }

  /** ∇KL = Σ_y U s (ln U/p + 1) = Σ_y U s ln(U/p), since E_U[s] = 0. */
  @Override
  public void costGradient(Integer x, double[] theta, double weight, double[] gradAccum) {
    if (terminal[x]) {
      return;
    }
    double[] u = controlled(x, theta);
    double[] mean = Softmax.meanFeature(features[x], u);
    for (int y = 0; y < numStates; y++) {
      if (u[y] == 0) {
        continue;
      }
      double w = weight * u[y] * (Math.log(u[y]) - logPassive[x][y]);
      for (int k = 0; k < numParams; k++) {
        gradAccum[k] += w * (features[x][y][k] - mean[k]);
      }
    }
  }

  @Override
  public boolean isTerminal(Integer x) {
    return terminal[x];
  }

  @Override
  public double[][] transitionMatrix(double[] theta) {
    double[][] u = new double[numStates][];
    for (int x = 0; x < numStates; x++) {
      u[x] = controlled(x, theta);
    }
    return u;
  }

  @Override
  public double[][][] scores(double[] theta) {
    double[][][] s = new double[numStates][numStates][numParams];
    for (int x = 0; x < numStates; x++) {
      double[] u = controlled(x, theta);
      double[] mean = Softmax.meanFeature(features[x], u);
      for (int y = 0; y < numStates; y++) {
        if (u[y] == 0) {
          continue;
        }
        for (int k = 0; k < numParams; k++) {
          s[x][y][k] = features[x][y][k] - mean[k];
        }
      }
    }
    return s;
  }

  @Override
  public double[][][][] scoreHessians(double[] theta) {
    double[][][][] h = new double[numStates][numStates][][];
    for (int x = 0; x < numStates; x++) {
      double[] u = controlled(x, theta);
      double[][] hx = Softmax.negativeFeatureCovariance(features[x], u);
      double[][] zero = new double[numParams][numParams];
      for (int y = 0; y < numStates; y++) {
        h[x][y] = u[y] > 0 ? hx : zero;
      }
    }
    return h;
  }

  /** ∇²KL = Σ_y U s sᵀ (ln(U/p) + 1) - Cov_U(F[x]) · KL (differentiate Σ_y U s ln(U/p)). */
  @Override
  public double[][][] costHessians(double[] theta) {
    double[][][] h = new double[numStates][numParams][numParams];
    double[][][] s = scores(theta);
    for (int x = 0; x < numStates; x++) {
      if (terminal[x]) {
        continue;
      }
      double[] u = controlled(x, theta);
      double[][] negCov = Softmax.negativeFeatureCovariance(features[x], u);
      double kl = cost(x, theta) - q[x];
      for (int y = 0; y < numStates; y++) {
        if (u[y] == 0) {
          continue;
        }
        double w = u[y] * (Math.log(u[y]) - logPassive[x][y] + 1);
        for (int a = 0; a < numParams; a++) {
          for (int b = 0; b < numParams; b++) {
            h[x][a][b] += w * s[x][y][a] * s[x][y][b];
          }
        }
      }
      for (int a = 0; a < numParams; a++) {
        for (int b = 0; b < numParams; b++) {
          h[x][a][b] += negCov[a][b] * kl;
        }
      }
    }
    return h;
  }
}
