package io.dsogym.lmdp;

import io.dsogym.dso.ConjugateGradient;
import io.dsogym.linalg.Shapes;
import io.dsogym.linalg.Vectors;
import io.dsogym.oracle.TabularChain;
import java.util.Arrays;

/**
 * Fits the parameters of a controlled chain to a target chain u (docs/math.md §5b: u ∝ p ẑ, the
 * chain a Z-learned desirability stands for) by minimizing
 * <pre>
 *   R(θ) = Σ_x ρ(x) KL( u(·|x) ‖ P(·|x,θ) ),      ∇R = -Σ_x ρ(x) Σ_y u(y|x) ∇θ ln P(y|x,θ)
 * </pre>
 * over the non-terminal states, ρ the given state weights normalized to sum 1. R is a
 * cross-entropy, so each step is a Newton step with the chain Fisher
 * F = Σ_x ρ(x) Σ_y P(y|x,θ) ∇ln P ∇ln Pᵀ as its matrix: for a softmax-linear chain such as
 * {@code LmdpChain} that is R's exact Hessian (Cov_P of the features), for any other chain a
 * Gauss-Newton matrix. F is used only through products (conjugate gradient, scaled by F's
 * diagonal because the rows' weights and probabilities differ by orders of magnitude), and a
 * backtracking line search keeps every step a descent.
 */
public final class KlRegression {
  private KlRegression() {}

  /**
   * @param maxSteps Newton steps at most
   * @param cgIterations conjugate-gradient iterations per step
   * @param gradientTolerance stop once max_k |∂R/∂θ_k| is at most this
   */
  public record Options(int maxSteps, int cgIterations, double gradientTolerance) {
    public Options {
      if (maxSteps < 1 || cgIterations < 1) {
        throw new IllegalArgumentException("maxSteps/cgIterations: expected >= 1, got "
            + maxSteps + " and " + cgIterations);
      }
      if (!(gradientTolerance >= 0)) {
        throw new IllegalArgumentException("gradientTolerance: expected >= 0, got "
            + gradientTolerance);
      }
    }

    /** Enough for a free chain to converge to round-off from a warm or a cold start. */
    public static Options defaults() {
      return new Options(50, 200, 1e-10);
    }
  }

  /** Where the fit stopped: Newton steps taken, R and max |∂R/∂θ_k| there. */
  public record Result(int steps, double objective, double gradientMax) {}

  /** R(θ); +∞ where u puts mass on a transition P(·|x,θ) cannot make. */
  public static double objective(TabularChain chain, double[][] target, double[] weights,
      double[] theta) {
    double[] rho = normalized(chain, target, weights, theta);
    double[][] p = chain.transitionMatrix(theta);
    double r = 0;
    int n = chain.numStates();
    for (int x = 0; x < n; x++) {
      if (rho[x] == 0) {
        continue;
      }
      for (int y = 0; y < n; y++) {
        double u = target[x][y];
        if (u > 0) {
          r += p[x][y] > 0 ? rho[x] * u * Math.log(u / p[x][y]) : Double.POSITIVE_INFINITY;
        }
      }
    }
    return r;
  }

  /** ∇R(θ) = -Σ_x ρ(x) Σ_y u(y|x) ∇ln P(y|x,θ). */
  public static double[] gradient(TabularChain chain, double[][] target, double[] weights,
      double[] theta) {
    return weightedScores(chain, target, normalized(chain, target, weights, theta), theta);
  }

  /**
   * Minimizes R from the given θ, which is updated in place.
   *
   * @throws IllegalArgumentException when u puts mass where P(·|x,θ) cannot (R = +∞)
   */
  public static Result fit(TabularChain chain, double[][] target, double[] weights,
      double[] theta, Options options) {
    double[] rho = normalized(chain, target, weights, theta);
    int k = theta.length;
    double r = objective(chain, target, weights, theta);
    if (Double.isInfinite(r)) {
      throw new IllegalArgumentException("target: expected u(y|x) > 0 only where P(y|x,θ) > 0, "
          + "got a transition the chain cannot make (R = +∞)");
    }
    double[] g = weightedScores(chain, target, rho, theta);
    int step = 0;
    double[] direction = new double[k];
    double[] trial = new double[k];
    double[] scaled = new double[k];
    while (step < options.maxSteps() && maxAbs(g) > options.gradientTolerance()) {
      FisherProducts fisher = new FisherProducts(chain, rho, theta);
      // Solve (D^-½ F D^-½) y = -D^-½ g, direction = D^-½ y, with D = diag F (1 where F's row
      // is zero: those parameters are in no weighted row and have no gradient either).
      double[] invSqrtD = new double[k];
      for (int j = 0; j < k; j++) {
        invSqrtD[j] = fisher.diagonal[j] > 0 ? 1 / Math.sqrt(fisher.diagonal[j]) : 1;
      }
      double[] b = new double[k];
      for (int j = 0; j < k; j++) {
        b[j] = -g[j] * invSqrtD[j];
      }
      double[] v = new double[k];
      double[] fv = new double[k];
      ConjugateGradient.solve((in, out) -> {
        for (int j = 0; j < k; j++) {
          v[j] = in[j] * invSqrtD[j];
        }
        fisher.apply(v, fv);
        for (int j = 0; j < k; j++) {
          // a relative ridge of 1e-12 keeps the scaled matrix definite along the directions
          // the softmax cannot see (a constant added to a row's logits)
          out[j] = fv[j] * invSqrtD[j] + 1e-12 * in[j];
        }
      }, b, scaled, options.cgIterations(), 1e-12);
      for (int j = 0; j < k; j++) {
        direction[j] = scaled[j] * invSqrtD[j];
      }
      double rTrial = lineSearch(chain, target, weights, theta, r, g, direction, trial);
      if (!(rTrial < r)) {
        // round-off spoiled the Newton direction: try steepest descent before giving up
        for (int j = 0; j < k; j++) {
          direction[j] = -g[j];
        }
        rTrial = lineSearch(chain, target, weights, theta, r, g, direction, trial);
      }
      if (!(rTrial < r)) {
        break;  // no decrease representable in double precision: R is at its minimum
      }
      System.arraycopy(trial, 0, theta, 0, k);
      r = rTrial;
      g = weightedScores(chain, target, rho, theta);
      step++;
    }
    return new Result(step, r, maxAbs(g));
  }

  /**
   * The largest change of any parameter in one step. A near-deterministic target row asks for
   * logits far apart, and along a direction of almost no curvature the Newton step can be
   * arbitrarily long; 5 nats (a factor of 150 in a probability ratio) per step keeps the line
   * search within reach while still letting a cold start converge in a few steps.
   */
  private static final double MAX_STEP = 5;

  /**
   * Armijo backtracking along {@code direction} (capped at {@link #MAX_STEP}) from the full
   * step; leaves the accepted point in {@code trial} and returns R there, or +∞ when the
   * direction is not a descent direction.
   */
  private static double lineSearch(TabularChain chain, double[][] target, double[] weights,
      double[] theta, double r, double[] g, double[] direction, double[] trial) {
    double longest = maxAbs(direction);
    double slope = Vectors.dot(g, direction);
    if (!(slope < 0) || !(longest > 0)) {
      return Double.POSITIVE_INFINITY;
    }
    double t = Math.min(1, MAX_STEP / longest);
    double rTrial = Double.POSITIVE_INFINITY;
    for (int halvings = 0; halvings < 60; halvings++, t /= 2) {
      for (int j = 0; j < theta.length; j++) {
        trial[j] = theta[j] + t * direction[j];
      }
      rTrial = objective(chain, target, weights, trial);
      if (rTrial <= r + 1e-4 * t * slope) {
        return rTrial;
      }
    }
    return rTrial < r ? rTrial : Double.POSITIVE_INFINITY;
  }

  /** -Σ_x ρ(x) Σ_y u(y|x) ∇ln P(y|x,θ), from the chain's own scores. */
  private static double[] weightedScores(TabularChain chain, double[][] target, double[] rho,
      double[] theta) {
    double[] g = new double[theta.length];
    int n = chain.numStates();
    for (int x = 0; x < n; x++) {
      if (rho[x] == 0) {
        continue;
      }
      for (int y = 0; y < n; y++) {
        if (target[x][y] > 0) {
          chain.score(x, y, null, theta, -rho[x] * target[x][y], g);
        }
      }
    }
    return g;
  }

  /** The weights over non-terminal states, normalized; validates shapes and the target rows. */
  private static double[] normalized(TabularChain chain, double[][] target, double[] weights,
      double[] theta) {
    int n = chain.numStates();
    Shapes.length("theta", theta, chain.numParams());
    Shapes.length("weights", weights, n);
    Shapes.matrix("target", target, n, n);
    boolean[] terminal = chain.terminalMask();
    double[] rho = new double[n];
    double total = 0;
    for (int x = 0; x < n; x++) {
      if (!(weights[x] >= 0) || Double.isInfinite(weights[x])) {
        throw new IllegalArgumentException("weights[" + x + "]: expected finite and >= 0, got "
            + weights[x]);
      }
      if (terminal[x] || weights[x] == 0) {
        continue;
      }
      Shapes.distribution("target[" + x + "]", target[x]);
      rho[x] = weights[x];
      total += weights[x];
    }
    if (!(total > 0)) {
      throw new IllegalArgumentException("weights: expected a positive weight on some "
          + "non-terminal state, got none");
    }
    for (int x = 0; x < n; x++) {
      rho[x] /= total;
    }
    return rho;
  }

  private static double maxAbs(double[] v) {
    double m = 0;
    for (double a : v) {
      m = Math.max(m, Math.abs(a));
    }
    return m;
  }

  /**
   * F v = Σ_x ρ(x) Σ_y P(y|x) s_xy (s_xy · v) with the scores s_xy = ∇ln P(y|x,θ) computed
   * once and kept sparse (a free chain's score has as many nonzeros as the row's support).
   */
  private static final class FisherProducts {
    private final int[][] index;
    private final double[][] value;
    private final double[] weight;
    final double[] diagonal;

    FisherProducts(TabularChain chain, double[] rho, double[] theta) {
      int n = chain.numStates();
      int k = theta.length;
      double[][] p = chain.transitionMatrix(theta);
      int pairs = 0;
      for (int x = 0; x < n; x++) {
        for (int y = 0; rho[x] > 0 && y < n; y++) {
          pairs += p[x][y] > 0 ? 1 : 0;
        }
      }
      index = new int[pairs][];
      value = new double[pairs][];
      weight = new double[pairs];
      diagonal = new double[k];
      double[] s = new double[k];
      int i = 0;
      for (int x = 0; x < n; x++) {
        for (int y = 0; rho[x] > 0 && y < n; y++) {
          if (p[x][y] == 0) {
            continue;
          }
          Arrays.fill(s, 0);
          chain.score(x, y, null, theta, 1.0, s);
          int nnz = 0;
          for (double a : s) {
            nnz += a != 0 ? 1 : 0;
          }
          index[i] = new int[nnz];
          value[i] = new double[nnz];
          weight[i] = rho[x] * p[x][y];
          for (int j = 0, m = 0; j < k; j++) {
            if (s[j] != 0) {
              index[i][m] = j;
              value[i][m++] = s[j];
              diagonal[j] += weight[i] * s[j] * s[j];
            }
          }
          i++;
        }
      }
    }

    void apply(double[] v, double[] out) {
      Arrays.fill(out, 0);
      for (int i = 0; i < index.length; i++) {
        int[] idx = index[i];
        double[] val = value[i];
        double dot = 0;
        for (int j = 0; j < idx.length; j++) {
          dot += val[j] * v[idx[j]];
        }
        double w = weight[i] * dot;
        for (int j = 0; j < idx.length; j++) {
          out[idx[j]] += w * val[j];
        }
      }
    }
  }
}
