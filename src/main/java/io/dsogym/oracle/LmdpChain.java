package io.dsogym.oracle;

import io.dsogym.linalg.Shapes;

import java.util.SplittableRandom;

/**
 * A linearly-solvable MDP as a DSO chain (docs/math.md §2g): the controlled chain
 * U(y|x,θ) = softmax_y(F[x][y]·θ + ln p(y|x)) over the support of the passive dynamics p, with
 * cost L(x,θ) = q(x) + KL(U(·|x,θ) ‖ p(·|x)) off the terminal set and L = q on it (the final
 * cost of docs/math.md §1a). θ = 0 gives U = p.
 *
 * <p>The features are kept sparse (the nonzero entries of each F[x][y]) and every row works
 * over p's support only: a free chain ({@link #free}) has one parameter per allowed transition,
 * so a dense F would make each row cost n·k instead of its support size.
 */
public final class LmdpChain implements TabularChain {
  private final int numStates;
  private final int numParams;
  private final double[][] passive;
  private final double[][] logPassive;
  /** [x]: the states y with p(y|x) > 0, ascending; U puts mass nowhere else. */
  private final int[][] support;
  /** [x][y]: the indices and values of F[x][y]'s nonzero entries. */
  private final int[][][] featureIndex;
  private final double[][][] featureValue;
  private final double[] q;
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
    this(passive, q, checkedParams(features, q.length), sparse(features), terminal, p0);
  }

  private LmdpChain(double[][] passive, double[] q, int numParams, Object[] sparseFeatures,
      boolean[] terminal, double[] p0) {
    this.numStates = q.length;
    this.numParams = numParams;
    Shapes.matrix("passive", passive, numStates, numStates);
    Shapes.length("P0", p0, numStates);
    Shapes.distribution("P0", p0);
    if (terminal == null || terminal.length != numStates) {
      throw new IllegalArgumentException("terminal: expected length " + numStates + ", got "
          + (terminal == null ? "null" : terminal.length));
    }
    this.logPassive = new double[numStates][numStates];
    this.support = new int[numStates][];
    for (int x = 0; x < numStates; x++) {
      if (!terminal[x]) {
        Shapes.distribution("passive[" + x + "]", passive[x]);
      }
      int count = 0;
      for (int y = 0; y < numStates; y++) {
        logPassive[x][y] = passive[x][y] > 0 ? Math.log(passive[x][y]) : Double.NEGATIVE_INFINITY;
        count += passive[x][y] > 0 ? 1 : 0;
      }
      support[x] = new int[count];
      for (int y = 0, j = 0; y < numStates; y++) {
        if (passive[x][y] > 0) {
          support[x][j++] = y;
        }
      }
    }
    this.featureIndex = (int[][][]) sparseFeatures[0];
    this.featureValue = (double[][][]) sparseFeatures[1];
    this.passive = passive;
    this.q = q.clone();
    this.terminal = terminal.clone();
    this.p0 = p0.clone();
  }

  /**
   * The free controlled chain: one parameter θ_xy per allowed transition (x non-terminal,
   * p(y|x) > 0), U(y|x) = softmax_y(θ_xy + ln p(y|x)). Every row can be any distribution on p's
   * support, so the optimal chain u* ∝ p z (docs/math.md §5) is in the family, at
   * θ_xy = ln z(y) + c_x. Parameters are numbered row by row, y ascending.
   */
  public static LmdpChain free(double[][] passive, double[] q, boolean[] terminal,
      double[] p0) {
    int n = q.length;
    Shapes.matrix("passive", passive, n, n);
    if (terminal == null || terminal.length != n) {
      throw new IllegalArgumentException("terminal: expected length " + n + ", got "
          + (terminal == null ? "null" : terminal.length));
    }
    int[][][] index = new int[n][n][];
    double[][][] value = new double[n][n][];
    int k = 0;
    for (int x = 0; x < n; x++) {
      for (int y = 0; y < n; y++) {
        boolean free = !terminal[x] && passive[x][y] > 0;
        index[x][y] = free ? new int[] {k++} : new int[0];
        value[x][y] = free ? new double[] {1.0} : new double[0];
      }
    }
    return new LmdpChain(passive, q, k, new Object[] {index, value}, terminal, p0);
  }

  private static int checkedParams(double[][][] features, int n) {
    if (features == null || features.length == 0 || features[0].length == 0) {
      throw new IllegalArgumentException("features: expected shape [" + n + "][" + n
          + "][k], got " + (features == null ? "null" : "an empty array"));
    }
    int k = features[0][0].length;
    Shapes.tensor3("features", features, n, n, k);
    return k;
  }

  /** {indices, values} of the nonzero entries of every F[x][y]. */
  private static Object[] sparse(double[][][] features) {
    int n = features.length;
    int[][][] index = new int[n][n][];
    double[][][] value = new double[n][n][];
    for (int x = 0; x < n; x++) {
      for (int y = 0; y < n; y++) {
        double[] f = features[x][y];
        int count = 0;
        for (double v : f) {
          count += v != 0 ? 1 : 0;
        }
        index[x][y] = new int[count];
        value[x][y] = new double[count];
        for (int i = 0, j = 0; i < f.length; i++) {
          if (f[i] != 0) {
            index[x][y][j] = i;
            value[x][y][j++] = f[i];
          }
        }
      }
    }
    return new Object[] {index, value};
  }

  /** p(y|x) (read-only). */
  public double[][] passive() {
    return passive;
  }

  /** q(x) (a copy). */
  public double[] stateCosts() {
    return q.clone();
  }

  /** The states y with p(y|x) > 0, ascending (read-only). */
  public int[] support(int x) {
    return support[x];
  }

  /** U(·|x,θ); zero outside p's support. */
  public double[] controlled(int x, double[] theta) {
    double[] u = new double[numStates];
    int[] ys = support[x];
    double max = Double.NEGATIVE_INFINITY;
    for (int y : ys) {
      u[y] = featureDot(x, y, theta) + logPassive[x][y];
      max = Math.max(max, u[y]);
    }
    double sum = 0;
    for (int y : ys) {
      u[y] = Math.exp(u[y] - max);
      sum += u[y];
    }
    for (int y : ys) {
      u[y] /= sum;
    }
    return u;
  }

  private double featureDot(int x, int y, double[] theta) {
    int[] idx = featureIndex[x][y];
    double[] val = featureValue[x][y];
    double s = 0;
    for (int j = 0; j < idx.length; j++) {
      s += val[j] * theta[idx[j]];
    }
    return s;
  }

  /** acc += w F[x][y]. */
  private void addFeatures(int x, int y, double w, double[] acc) {
    int[] idx = featureIndex[x][y];
    double[] val = featureValue[x][y];
    for (int j = 0; j < idx.length; j++) {
      acc[idx[j]] += w * val[j];
    }
  }

  /** E_U[F[x][·]] as a dense vector. */
  private double[] meanFeature(int x, double[] u) {
    double[] mean = new double[numParams];
    for (int y : support[x]) {
      if (u[y] != 0) {
        addFeatures(x, y, u[y], mean);
      }
    }
    return mean;
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

  /** weight · (F[x][x'] - E_U[F[x][·]]), in the nonzero entries only. */
  @Override
  public void score(Integer x, Integer next, double[] latent, double[] theta, double weight,
      double[] gradAccum) {
    double[] u = controlled(x, theta);
    addFeatures(x, next, weight, gradAccum);
    for (int y : support[x]) {
      if (u[y] != 0) {
        addFeatures(x, y, -weight * u[y], gradAccum);
      }
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
    for (int y : support[x]) {
      if (u[y] > 0) {
        kl += u[y] * (Math.log(u[y]) - logPassive[x][y]);
      }
    }
    return q[x] + kl;
  }

  /**
   * ∇KL = Σ_y U s (ln U/p + 1) = Σ_y U s ln(U/p), since E_U[s] = 0; with c_y = U ln(U/p) and
   * s = F_y - E_U[F], that is Σ_y c_y F_y - (Σ_y c_y) E_U[F].
   */
  @Override
  public void costGradient(Integer x, double[] theta, double weight, double[] gradAccum) {
    if (terminal[x]) {
      return;
    }
    double[] u = controlled(x, theta);
    double total = 0;
    for (int y : support[x]) {
      if (u[y] == 0) {
        continue;
      }
      double c = weight * u[y] * (Math.log(u[y]) - logPassive[x][y]);
      addFeatures(x, y, c, gradAccum);
      total += c;
    }
    for (int y : support[x]) {
      if (u[y] != 0) {
        addFeatures(x, y, -total * u[y], gradAccum);
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
      double[] mean = meanFeature(x, u);
      for (int y : support[x]) {
        if (u[y] == 0) {
          continue;
        }
        for (int k = 0; k < numParams; k++) {
          s[x][y][k] = -mean[k];
        }
        addFeatures(x, y, 1.0, s[x][y]);
      }
    }
    return s;
  }

  /** -Cov_U(F[x][·]) = -Σ_y U (F_y - m)(F_y - m)ᵀ, m = E_U[F]: the same for every y. */
  private double[][] negativeFeatureCovariance(int x, double[] u) {
    double[] mean = meanFeature(x, u);
    double[][] h = new double[numParams][numParams];
    double[] d = new double[numParams];
    for (int y : support[x]) {
      if (u[y] == 0) {
        continue;
      }
      for (int k = 0; k < numParams; k++) {
        d[k] = -mean[k];
      }
      addFeatures(x, y, 1.0, d);
      for (int a = 0; a < numParams; a++) {
        if (d[a] == 0) {
          continue;
        }
        for (int b = 0; b < numParams; b++) {
          h[a][b] -= u[y] * d[a] * d[b];
        }
      }
    }
    return h;
  }

  @Override
  public double[][][][] scoreHessians(double[] theta) {
    double[][][][] h = new double[numStates][numStates][][];
    double[][] zero = new double[numParams][numParams];
    for (int x = 0; x < numStates; x++) {
      double[] u = controlled(x, theta);
      double[][] hx = negativeFeatureCovariance(x, u);
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
      double[][] negCov = negativeFeatureCovariance(x, u);
      double kl = cost(x, theta) - q[x];
      for (int y : support[x]) {
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
