package io.dsogym.oracle;

import io.dsogym.linalg.Shapes;

import java.util.SplittableRandom;

/**
 * A standard MDP ("S-MDP", docs/math.md §2b) marginalized into a chain (§2a): a softmax policy
 * π(a|x,θ) = softmax_a(F[x][a]·θ) and a θ-free environment p(y|x,a) with step cost ℓ(x,a):
 * P(y|x,θ) = Σ_a π(a|x,θ) p(y|x,a) and L(x,θ) = Σ_a π(a|x,θ) ℓ(x,a).
 *
 * <p>{@link #step} reports the sampled action as the latent ({@code latent[0] = a}), and
 * {@link #score} follows the chain's {@link ScoreRoute}: the exact marginal score
 * Σ_a π(a|x,x',θ) ∇ln π(a|x,θ) with the action posterior π(a|x,x') = π(a|x) p(x'|x,a) / P(x'|x)
 * (route 1), or ∇ln π(a_sampled|x,θ) (route 2). The cost is the closed-form L in both routes,
 * so the two differ only in the score. The matrix view ({@link TabularChain}) is the marginal
 * chain, whose score is route 1's.
 */
public final class MarginalPolicyChain implements TabularChain {
  private final int numStates;
  private final int numActions;
  private final int numParams;
  private final double[] p0;
  private final double[][][] env;
  private final double[][][] features;
  private final double[][] actionCost;
  private final ScoreRoute route;

  /**
   * @param p0 [n] initial distribution
   * @param env [n][m][n] p(y|x,a)
   * @param features [n][m][k] policy features
   * @param actionCost [n][m] ℓ(x,a)
   */
  public MarginalPolicyChain(double[] p0, double[][][] env, double[][][] features,
      double[][] actionCost, ScoreRoute route) {
    this.numStates = p0.length;
    this.numActions = actionCost.length == 0 ? 0 : actionCost[0].length;
    this.numParams = features[0][0].length;
    Shapes.distribution("P0", p0);
    Shapes.tensor3("p_env", env, numStates, numActions, numStates);
    for (int x = 0; x < numStates; x++) {
      for (int a = 0; a < numActions; a++) {
        Shapes.distribution("p_env[" + x + "][" + a + "]", env[x][a]);
      }
    }
    Shapes.tensor3("policy_features", features, numStates, numActions, numParams);
    Shapes.matrix("cost", actionCost, numStates, numActions);
    if (route == null) {
      throw new IllegalArgumentException("route: expected EXACT_MARGINAL or SAMPLED_ACTION, got null");
    }
    this.p0 = p0.clone();
    this.env = env;
    this.features = features;
    this.actionCost = actionCost;
    this.route = route;
  }

  /** The same problem scored by the other route (shares the arrays). */
  public MarginalPolicyChain withScoreRoute(ScoreRoute other) {
    return new MarginalPolicyChain(p0, env, features, actionCost, other);
  }

  public ScoreRoute scoreRoute() {
    return route;
  }

  public int numActions() {
    return numActions;
  }

  /** p(y|x,a) as [x][a][y] (read-only). */
  public double[][][] environment() {
    return env;
  }

  /** ℓ(x,a) as [x][a] (read-only). */
  public double[][] actionCosts() {
    return actionCost;
  }

  /** π(·|x,θ). */
  public double[] policy(int x, double[] theta) {
    double[] pi = new double[numActions];
    Softmax.probabilities(features[x], theta, null, pi);
    return pi;
  }

  /** ∇θ ln π(a|x,θ) as [x][a][k]. */
  public double[][][] policyScores(double[] theta) {
    double[][][] s = new double[numStates][numActions][numParams];
    for (int x = 0; x < numStates; x++) {
      double[] mean = Softmax.meanFeature(features[x], policy(x, theta));
      for (int a = 0; a < numActions; a++) {
        for (int k = 0; k < numParams; k++) {
          s[x][a][k] = features[x][a][k] - mean[k];
        }
      }
    }
    return s;
  }

  /** The action posterior π(a|x,y,θ) = π(a|x) p(y|x,a) / P(y|x) (docs/math.md §2c). */
  public double[] actionPosterior(int x, int y, double[] theta) {
    double[] pi = policy(x, theta);
    double[] post = new double[numActions];
    double marginal = 0;
    for (int a = 0; a < numActions; a++) {
      post[a] = pi[a] * env[x][a][y];
      marginal += post[a];
    }
    if (marginal > 0) {
      for (int a = 0; a < numActions; a++) {
        post[a] /= marginal;
      }
    }
    return post;
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
    int a = Softmax.sample(policy(x, theta), rng);
    int y = Softmax.sample(env[x][a], rng);
    return new Step<>(y, new double[] {a});
  }

  @Override
  public void score(Integer x, Integer next, double[] latent, double[] theta, double weight,
      double[] gradAccum) {
    double[] pi = policy(x, theta);
    double[] mean = Softmax.meanFeature(features[x], pi);
    double[] actionWeight;
    if (route == ScoreRoute.SAMPLED_ACTION) {
      if (latent == null || latent.length != 1) {
        throw new IllegalArgumentException("latent: expected the sampled action {a}, got "
            + (latent == null ? "null" : "length " + latent.length));
      }
      actionWeight = new double[numActions];
      actionWeight[(int) latent[0]] = 1.0;
    } else {
      actionWeight = actionPosterior(x, next, theta);
    }
    // Σ_a w_a (F[x][a] - E_π F[x]) with Σ_a w_a = 1
    for (int a = 0; a < numActions; a++) {
      if (actionWeight[a] == 0) {
        continue;
      }
      for (int k = 0; k < numParams; k++) {
        gradAccum[k] += weight * actionWeight[a] * (features[x][a][k] - mean[k]);
      }
    }
  }

  @Override
  public double logProb(Integer x, Integer next, double[] theta) {
    double[] pi = policy(x, theta);
    double p = 0;
    for (int a = 0; a < numActions; a++) {
      p += pi[a] * env[x][a][next];
    }
    return Math.log(p);
  }

  @Override
  public double cost(Integer x, double[] theta) {
    double[] pi = policy(x, theta);
    double l = 0;
    for (int a = 0; a < numActions; a++) {
      l += pi[a] * actionCost[x][a];
    }
    return l;
  }

  /** ∇L = Σ_a π(a|x) ∇ln π(a|x) ℓ(x,a). */
  @Override
  public void costGradient(Integer x, double[] theta, double weight, double[] gradAccum) {
    double[] pi = policy(x, theta);
    double[] mean = Softmax.meanFeature(features[x], pi);
    for (int a = 0; a < numActions; a++) {
      double w = weight * pi[a] * actionCost[x][a];
      for (int k = 0; k < numParams; k++) {
        gradAccum[k] += w * (features[x][a][k] - mean[k]);
      }
    }
  }

  @Override
  public boolean isTerminal(Integer x) {
    return false;
  }

  @Override
  public double[][] transitionMatrix(double[] theta) {
    double[][] p = new double[numStates][numStates];
    for (int x = 0; x < numStates; x++) {
      double[] pi = policy(x, theta);
      for (int a = 0; a < numActions; a++) {
        for (int y = 0; y < numStates; y++) {
          p[x][y] += pi[a] * env[x][a][y];
        }
      }
    }
    return p;
  }

  /** The exact marginal score (route 1), 0 where P(y|x) = 0. */
  @Override
  public double[][][] scores(double[] theta) {
    double[][][] policyScores = policyScores(theta);
    double[][][] s = new double[numStates][numStates][numParams];
    for (int x = 0; x < numStates; x++) {
      for (int y = 0; y < numStates; y++) {
        double[] post = actionPosterior(x, y, theta);
        for (int a = 0; a < numActions; a++) {
          for (int k = 0; k < numParams; k++) {
            s[x][y][k] += post[a] * policyScores[x][a][k];
          }
        }
      }
    }
    return s;
  }
}
