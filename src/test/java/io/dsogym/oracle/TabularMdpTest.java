package io.dsogym.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.Env;
import io.dsogym.env.Tensor;
import io.dsogym.envs.tabular.TabularChainEnv;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@link TabularMdp} against the existing exact machinery ({@link MarginalPolicyChain} with
 * {@link TabularExact} / {@link SmdpExact}), against Monte-Carlo rollouts of
 * {@link TabularChainEnv} itself, and its optima against brute force over deterministic
 * policies.
 */
class TabularMdpTest {
  private static final double EXACT = 1e-10;

  /**
   * The marginal chain of the MDP under softmax_a(θ[s·m + a]): one-hot features, so θ holds
   * the logits; terminal rows are absorbing and free in the tables (V = 0 there for γ &lt; 1).
   */
  private static MarginalPolicyChain softmaxChain(RandomMdp r) {
    int n = r.numStates();
    int m = r.numActions();
    double[][][] features = new double[n][m][n * m];
    for (int s = 0; s < n; s++) {
      for (int a = 0; a < m; a++) {
        features[s][a][s * m + a] = 1;
      }
    }
    double[][] cost = new double[n][];
    for (int s = 0; s < n; s++) {
      cost[s] = r.terminal[s] ? new double[m] : r.costs[s].clone();
    }
    return new MarginalPolicyChain(r.initial, r.transitions, features, cost,
        ScoreRoute.EXACT_MARGINAL);
  }

  private static double[][] policyTable(MarginalPolicyChain chain, double[] theta) {
    double[][] pi = new double[chain.numStates()][];
    for (int s = 0; s < pi.length; s++) {
      pi[s] = chain.policy(s, theta);
    }
    return pi;
  }

  private static double[] randomTheta(SplittableRandom rng, int k, double scale) {
    double[] theta = new double[k];
    for (int i = 0; i < k; i++) {
      theta[i] = scale * RandomMdp.gaussian(rng);
    }
    return theta;
  }

  @Test
  @DisplayName("discounted J and V equal TabularExact/SmdpExact on the marginal softmax chain (terminal absorbing and free) to 1e-10")
  void discountedMatchesMarginalPolicyChain() {
    SplittableRandom rng = new SplittableRandom(11);
    for (int trial = 0; trial < 5; trial++) {
      RandomMdp r = RandomMdp.generate(rng, 7, 3, 2, 0.0);
      MarginalPolicyChain chain = softmaxChain(r);
      double[] theta = randomTheta(rng, chain.numParams(), 1.5);
      double[][] pi = policyTable(chain, theta);
      TabularMdp mdp = r.mdp();
      for (double gamma : new double[] {0.5, 0.9, 0.99}) {
        DiscountedSolution exact = TabularExact.discounted(chain, gamma, theta);
        SmdpExact.Solution smdp = SmdpExact.solve(chain, gamma, theta);
        assertEquals(exact.objective, mdp.discountedObjective(pi, gamma),
            EXACT * Math.max(1, Math.abs(exact.objective)), "J, gamma " + gamma);
        assertEquals(smdp.chain.objective, mdp.discountedObjective(pi, gamma),
            EXACT * Math.max(1, Math.abs(exact.objective)), "J (SmdpExact), gamma " + gamma);
        double[] v = mdp.discountedValues(pi, gamma);
        for (int s = 0; s < v.length; s++) {
          assertEquals(exact.value[s], v[s], EXACT * Math.max(1, Math.abs(exact.value[s])),
              "V[" + s + "], gamma " + gamma);
        }
      }
    }
  }

  /** The marginal chain with the terminal set marked (V = L = 0 there), for γ = 1. */
  private record TerminalChain(MarginalPolicyChain inner, boolean[] terminal)
      implements TabularChain {
    @Override public int numStates() { return inner.numStates(); }
    @Override public double[] initialDistribution() { return inner.initialDistribution(); }
    @Override public double[][] transitionMatrix(double[] theta) {
      return inner.transitionMatrix(theta);
    }
    @Override public double[][][] scores(double[] theta) { return inner.scores(theta); }
    @Override public int numParams() { return inner.numParams(); }
    @Override public Integer sampleInitial(SplittableRandom rng) {
      return inner.sampleInitial(rng);
    }
    @Override public Step<Integer> step(Integer x, double[] theta, SplittableRandom rng) {
      return inner.step(x, theta, rng);
    }
    @Override public void score(Integer x, Integer next, double[] latent, double[] theta,
        double weight, double[] gradAccum) {
      inner.score(x, next, latent, theta, weight, gradAccum);
    }
    @Override public double cost(Integer x, double[] theta) { return inner.cost(x, theta); }
    @Override public void costGradient(Integer x, double[] theta, double weight,
        double[] gradAccum) {
      inner.costGradient(x, theta, weight, gradAccum);
    }
    @Override public boolean isTerminal(Integer x) { return terminal[x]; }
  }

  @Test
  @DisplayName("first exit (gamma = 1): J and V equal TabularExact on the marginal chain with the terminal set to 1e-10")
  void firstExitMatchesTabularExact() {
    SplittableRandom rng = new SplittableRandom(12);
    for (int trial = 0; trial < 5; trial++) {
      RandomMdp r = RandomMdp.generate(rng, 6, 3, 1, 0.15);
      MarginalPolicyChain chain = softmaxChain(r);
      double[] theta = randomTheta(rng, chain.numParams(), 1.5);
      double[][] pi = policyTable(chain, theta);
      DiscountedSolution exact = TabularExact.discounted(new TerminalChain(chain, r.terminal),
          1.0, theta);
      TabularMdp mdp = r.mdp();
      assertEquals(exact.objective, mdp.discountedObjective(pi, 1.0),
          EXACT * Math.max(1, Math.abs(exact.objective)), "J");
      double[] v = mdp.discountedValues(pi, 1.0);
      for (int s = 0; s < v.length; s++) {
        assertEquals(exact.value[s], v[s], EXACT * Math.max(1, Math.abs(exact.value[s])),
            "V[" + s + "]");
      }
    }
  }

  /** Discounted returns of TabularChainEnv episodes under a policy table. */
  private static double[] rollouts(TabularChainEnv env, double[][] pi, double gamma,
      int episodes, long seed) {
    SplittableRandom actions = new SplittableRandom(seed);
    double[] returns = new double[episodes];
    env.reset(seed, Map.of());
    for (int e = 0; e < episodes; e++) {
      int s = (int) ((Tensor) env.reset(null, Map.of()).observation()).getLong(0);
      double g = 0;
      double discount = 1;
      // the neglected tail is below γ^t·max|c|/(1-γ) < 1e-10 once γ^t < 1e-13
      while (discount > 1e-13) {
        int a = RandomMdp.sample(pi[s], actions);
        Env.StepResult step = env.step(Tensor.scalarInt64(a));
        g += discount * -step.reward();
        discount *= gamma;
        if (step.terminated()) {
          break;
        }
        if (step.truncated()) {
          throw new AssertionError("the test's time limit was reached: raise it");
        }
        s = (int) ((Tensor) step.observation()).getLong(0);
      }
      returns[e] = g;
    }
    return returns;
  }

  private static void assertWithinFourSe(double exact, double[] samples, String what) {
    int n = samples.length;
    double mean = 0;
    for (double x : samples) {
      mean += x / n;
    }
    double ss = 0;
    for (double x : samples) {
      ss += (x - mean) * (x - mean);
    }
    double se = Math.sqrt(ss / (n - 1) / n);
    System.out.printf("[exact-objectives] %s: exact %.6f, Monte Carlo %.6f ± %.6f (z = %.2f)%n",
        what, exact, mean, se, (mean - exact) / se);
    assertTrue(se > 0, what + ": expected a positive standard error");
    assertTrue(Math.abs(mean - exact) <= 4 * se, what + ": expected the Monte-Carlo mean "
        + mean + " within 4 SE (" + se + ") of the exact " + exact);
  }

  @Test
  @DisplayName("discounted J equals the mean discounted return of TabularChainEnv rollouts within 4 SE (3x3 slip gridworld, and random tables with gamma = 1)")
  void discountedMatchesEnvRollouts() {
    SplittableRandom rng = new SplittableRandom(13);
    Map<String, Object> kw = new java.util.HashMap<>(TabularChainEnv.gridworldKwargs(3, 3, 0.2));
    kw.put("max_episode_steps", 1_000_000.0);
    TabularChainEnv grid = new TabularChainEnv(kw);
    TabularMdp gridMdp = TabularMdp.of(grid);
    double[][] pi = RandomMdp.randomPolicy(rng, 9, 4, 1.0);
    assertWithinFourSe(gridMdp.discountedObjective(pi, 0.95), rollouts(grid, pi, 0.95, 20000, 1),
        "gridworld 3x3 slip 0.2, gamma 0.95");

    RandomMdp r = RandomMdp.generate(rng, 6, 3, 1, 0.1);
    double[][] pr = RandomMdp.randomPolicy(rng, 6, 3, 1.5);
    assertWithinFourSe(r.mdp().discountedObjective(pr, 1.0), rollouts(r.env(1_000_000), pr, 1.0,
        20000, 2), "random 6x3, first exit (gamma 1)");
    assertWithinFourSe(r.mdp().discountedObjective(pr, 0.8), rollouts(r.env(1_000_000), pr, 0.8,
        20000, 3), "random 6x3, gamma 0.8");
  }

  @Test
  @DisplayName("of(env): the env's tables with costs = -rewards (gridworld: J = -expected discounted reward)")
  void ofEnvNegatesRewards() {
    TabularChainEnv grid = TabularChainEnv.gridworld(2, 2, 0.0);
    TabularMdp mdp = TabularMdp.of(grid);
    assertEquals(4, mdp.numStates());
    assertEquals(4, mdp.numActions());
    // from the top-left corner, RIGHT then DOWN reaches the goal in two steps of cost 1
    double[][] pi = new double[4][4];
    pi[0][TabularChainEnv.RIGHT] = 1;
    pi[1][TabularChainEnv.DOWN] = 1;
    pi[2][TabularChainEnv.RIGHT] = 1;
    pi[3][0] = 1;
    assertEquals(1 + 0.9, mdp.discountedObjective(pi, 0.9), 1e-14);
    assertEquals(2, mdp.discountedObjective(pi, 1.0), 1e-14);
    assertEquals(0, mdp.discountedValues(pi, 0.9)[3], 0.0, "V of the terminal goal");
  }

  @Test
  @DisplayName("optimalDiscountedObjective equals the best of the 16 deterministic policies of a 4x2 MDP and is <= 200 random stochastic policies")
  void optimalDiscountedByBruteForce() {
    SplittableRandom rng = new SplittableRandom(14);
    for (int trial = 0; trial < 10; trial++) {
      RandomMdp r = RandomMdp.generate(rng, 4, 2, 0, 0.0);
      TabularMdp mdp = r.mdp();
      for (double gamma : new double[] {0.5, 0.9, 0.99}) {
        double opt = mdp.optimalDiscountedObjective(gamma);
        double best = Double.POSITIVE_INFINITY;
        List<double[][]> policies = RandomMdp.deterministicPolicies(4, 2, r.terminal);
        assertEquals(16, policies.size());
        for (double[][] pi : policies) {
          best = Math.min(best, mdp.discountedObjective(pi, gamma));
        }
        assertEquals(best, opt, EXACT * Math.max(1, Math.abs(best)), "gamma " + gamma);
        for (int i = 0; i < 200; i++) {
          double[][] pi = RandomMdp.randomPolicy(rng, 4, 2, 1 + 2 * rng.nextDouble());
          double j = mdp.discountedObjective(pi, gamma);
          assertTrue(opt <= j + EXACT * Math.max(1, Math.abs(j)), "optimum " + opt
              + " above a random policy's J " + j);
        }
      }
    }
  }

  @Test
  @DisplayName("optimalDiscountedObjective with terminal states: brute force on random tables (gamma 0.9 and 1) and on the 2x3 slip gridworld (gamma 1, 1024 policies)")
  void optimalDiscountedWithTerminalStates() {
    SplittableRandom rng = new SplittableRandom(15);
    for (int trial = 0; trial < 5; trial++) {
      RandomMdp r = RandomMdp.generate(rng, 6, 3, 1, 0.05);
      TabularMdp mdp = r.mdp();
      for (double gamma : new double[] {0.9, 1.0}) {
        double best = Double.POSITIVE_INFINITY;
        for (double[][] pi : RandomMdp.deterministicPolicies(6, 3, r.terminal)) {
          best = Math.min(best, mdp.discountedObjective(pi, gamma));
        }
        assertEquals(best, mdp.optimalDiscountedObjective(gamma),
            EXACT * Math.max(1, Math.abs(best)), "gamma " + gamma);
      }
    }
    TabularChainEnv grid = TabularChainEnv.gridworld(2, 3, 0.1);
    TabularMdp mdp = TabularMdp.of(grid);
    double best = Double.POSITIVE_INFINITY;
    boolean[] terminal = new boolean[6];
    terminal[5] = true;
    List<double[][]> policies = RandomMdp.deterministicPolicies(6, 4, terminal);
    assertEquals(1024, policies.size());
    for (double[][] pi : policies) {
      best = Math.min(best, mdp.discountedObjective(pi, 1.0));
    }
    assertEquals(best, mdp.optimalDiscountedObjective(1.0), EXACT * Math.abs(best));
    assertTrue(best > 3 - 1e-12, "three moves are needed to cross the 2x3 grid, got " + best);
  }

  @Test
  @DisplayName("averageObjective equals TabularExact.averageCost on the explicit reset chain, and the renewal-reward ratio E[episode cost]/E[episode length], to 1e-10")
  void averageMatchesExactResetChain() {
    SplittableRandom rng = new SplittableRandom(16);
    for (int trial = 0; trial < 5; trial++) {
      RandomMdp r = RandomMdp.generate(rng, 7, 3, 2, 0.05);
      int n = 7;
      int m = 3;
      // the reset chain on the 5 non-terminal states: terminal mass sent to p0
      int live = 5;
      double[][][] reset = new double[live][m][live];
      double[][] cost = new double[live][m];
      double[] p0 = new double[live];
      for (int s = 0; s < live; s++) {
        p0[s] = r.initial[s];
        for (int a = 0; a < m; a++) {
          cost[s][a] = r.costs[s][a];
          double out = r.transitions[s][a][5] + r.transitions[s][a][6];
          for (int y = 0; y < live; y++) {
            reset[s][a][y] = r.transitions[s][a][y] + out * r.initial[y];
          }
        }
      }
      double[][][] features = new double[live][m][live * m];
      for (int s = 0; s < live; s++) {
        for (int a = 0; a < m; a++) {
          features[s][a][s * m + a] = 1;
        }
      }
      MarginalPolicyChain chain = new MarginalPolicyChain(p0, reset, features, cost,
          ScoreRoute.EXACT_MARGINAL);
      double[] theta = randomTheta(rng, live * m, 1.5);
      double[][] pi = new double[n][];
      for (int s = 0; s < n; s++) {
        pi[s] = s < live ? chain.policy(s, theta) : new double[] {1, 0, 0};
      }
      TabularMdp mdp = r.mdp();
      double exact = TabularExact.averageCost(chain, theta).objective;
      double j = mdp.averageObjective(pi);
      assertEquals(exact, j, EXACT * Math.max(1, Math.abs(exact)), "average J");
      // renewal-reward: J = E[Σ episode costs] / E[episode length], both first-exit objectives
      double[][] ones = new double[n][m];
      for (double[] row : ones) {
        java.util.Arrays.fill(row, 1.0);
      }
      double length = new TabularMdp(r.initial, r.transitions, ones, r.terminal)
          .discountedObjective(pi, 1.0);
      assertEquals(mdp.discountedObjective(pi, 1.0) / length, j,
          EXACT * Math.max(1, Math.abs(j)), "renewal-reward ratio");
    }
  }

  @Test
  @DisplayName("averageObjective equals the long-run cost per step of TabularChainEnv reset after each termination within 4 SE (batch means)")
  void averageMatchesLongSimulation() {
    SplittableRandom rng = new SplittableRandom(17);
    RandomMdp r = RandomMdp.generate(rng, 6, 3, 1, 0.1);
    double[][] pi = RandomMdp.randomPolicy(rng, 6, 3, 1.5);
    double exact = r.mdp().averageObjective(pi);
    TabularChainEnv env = r.env(Integer.MAX_VALUE);
    SplittableRandom actions = new SplittableRandom(18);
    int s = (int) ((Tensor) env.reset(19L, Map.of()).observation()).getLong(0);
    // batch means over 100 blocks of 20000 steps: each block spans ~2000 episodes, so blocks
    // are practically independent
    int blocks = 100;
    int blockSteps = 20000;
    double[] means = new double[blocks];
    for (int b = 0; b < blocks; b++) {
      double sum = 0;
      for (int t = 0; t < blockSteps; t++) {
        int a = RandomMdp.sample(pi[s], actions);
        Env.StepResult step = env.step(Tensor.scalarInt64(a));
        sum += -step.reward();
        s = step.terminated()
            ? (int) ((Tensor) env.reset(null, Map.of()).observation()).getLong(0)
            : (int) ((Tensor) step.observation()).getLong(0);
      }
      means[b] = sum / blockSteps;
    }
    assertWithinFourSe(exact, means, "average cost through resets, random 6x3");
  }

  @Test
  @DisplayName("optimalAverageObjective equals the best of the 16 deterministic policies (4 live states x 2 actions, with resets) and is <= 200 random policies")
  void optimalAverageByBruteForce() {
    SplittableRandom rng = new SplittableRandom(20);
    for (int trial = 0; trial < 10; trial++) {
      RandomMdp r = RandomMdp.generate(rng, 5, 2, trial % 2, 0.05);
      TabularMdp mdp = r.mdp();
      double opt = mdp.optimalAverageObjective();
      double best = Double.POSITIVE_INFINITY;
      List<double[][]> policies = RandomMdp.deterministicPolicies(5, 2, r.terminal);
      for (double[][] pi : policies) {
        best = Math.min(best, mdp.averageObjective(pi));
      }
      assertEquals(best, opt, EXACT * Math.max(1, Math.abs(best)), "trial " + trial);
      for (int i = 0; i < 200; i++) {
        double[][] pi = RandomMdp.randomPolicy(rng, 5, 2, 1 + 2 * rng.nextDouble());
        double j = mdp.averageObjective(pi);
        assertTrue(opt <= j + EXACT * Math.max(1, Math.abs(j)), "optimum " + opt
            + " above a random policy's J " + j);
      }
    }
  }

  @Test
  @DisplayName("errors name the field: shapes, distributions, terminal start mass, gamma, non-terminating first exit, multichain average")
  void errorsNameTheField() {
    double[][][] p = {{{0.5, 0.5}, {1, 0}}, {{0, 1}, {0, 1}}};
    double[][] c = {{1, 2}, {0, 0}};
    boolean[] term = {false, true};
    double[] p0 = {1, 0};
    TabularMdp ok = new TabularMdp(p0, p, c, term);
    assertMessage("initial", () -> new TabularMdp(new double[] {1}, p, c, term));
    assertMessage("transitions[0][0]", () -> new TabularMdp(p0,
        new double[][][] {{{0.5, 0.4}, {1, 0}}, {{0, 1}, {0, 1}}}, c, term));
    assertMessage("costs", () -> new TabularMdp(p0, p, new double[][] {{1, 2}}, term));
    assertMessage("terminal", () -> new TabularMdp(p0, p, c, new boolean[] {false}));
    assertMessage("initial[1]", () -> new TabularMdp(new double[] {0.5, 0.5}, p, c, term));
    assertMessage("policy[0]", () -> ok.discountedObjective(new double[][] {{0.5, 0.6}, {1, 0}},
        0.9));
    assertMessage("policy", () -> ok.discountedObjective(new double[][] {{0.5, 0.5}}, 0.9));
    assertMessage("gamma", () -> ok.discountedObjective(new double[][] {{1, 0}, {1, 0}}, 0));
    assertMessage("gamma", () -> ok.discountedObjective(new double[][] {{1, 0}, {1, 0}}, 1.5));
    // terminal rows are ignored: any row there is fine
    assertEquals(1 / (1 - 0.5), ok.discountedObjective(new double[][] {{1, 0}, {0, 0}}, 1.0), 1e-12);
    // action 1 in state 0 loops forever: no first-exit value
    assertMessage("gamma = 1", () -> ok.discountedObjective(new double[][] {{0, 1}, {1, 0}},
        1.0));
    // two absorbing states both reachable from p0: two recurrent classes
    TabularMdp multi = new TabularMdp(new double[] {0.5, 0.5, 0},
        new double[][][] {{{1, 0, 0}}, {{0, 1, 0}}, {{0, 0, 1}}},
        new double[][] {{1}, {2}, {0}}, new boolean[] {false, false, false});
    assertMessage("unichain", () -> multi.averageObjective(new double[][] {{1}, {1}, {1}}));
    // the unreachable state 2 does not count
    TabularMdp single = new TabularMdp(new double[] {1, 0, 0},
        new double[][][] {{{0, 1, 0}}, {{1, 0, 0}}, {{0, 0, 1}}},
        new double[][] {{1}, {2}, {7}}, new boolean[] {false, false, false});
    assertEquals(1.5, single.averageObjective(new double[][] {{1}, {1}, {1}}), 1e-15);
    assertEquals(1.5, single.optimalAverageObjective(), 1e-15);
  }

  private static void assertMessage(String field, org.junit.jupiter.api.function.Executable e) {
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
    assertTrue(ex.getMessage().startsWith(field) || ex.getMessage().contains(field),
        "expected the message to name " + field + ", got: " + ex.getMessage());
  }
}
