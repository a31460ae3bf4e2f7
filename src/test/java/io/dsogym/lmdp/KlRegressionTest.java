package io.dsogym.lmdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.oracle.DiscountedSolution;
import io.dsogym.oracle.LmdpChain;
import io.dsogym.oracle.LmdpExact;
import io.dsogym.oracle.TabularExact;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The KL regression of θ onto u ∝ p z (docs/math.md §5): its gradient against finite
 * differences, its minimum, and that with the exact z it gives the optimal chain, J = J*.
 */
class KlRegressionTest {
  /** ZLearningTest's walk with a dense 3-feature controlled chain: u* is not in its family. */
  static LmdpChain restricted() {
    LmdpChain free = ZLearningTest.walk();
    int n = free.numStates();
    double[][][] features = new double[n][n][3];
    SplittableRandom rng = new SplittableRandom(5);
    for (double[][] row : features) {
      for (double[] f : row) {
        for (int k = 0; k < f.length; k++) {
          f[k] = rng.nextGaussian();
        }
      }
    }
    return new LmdpChain(free.passive(), free.stateCosts(), features, free.terminalMask(),
        free.initialDistribution());
  }

  static double[] uniformWeights(LmdpChain chain) {
    double[] w = new double[chain.numStates()];
    Arrays.fill(w, 1);
    return w;
  }

  /**
   * Central differences with h = 1e-5: truncation h²/6·|R'''| and round-off ε|R|/h are both
   * below 1e-10 for these O(1) objectives, so 1e-8 leaves a wide margin.
   */
  @Test
  void gradientMatchesFiniteDifferences() {
    for (LmdpChain chain : new LmdpChain[] {restricted(), ZLearningTest.walk(),
        LmdpProblems.gridworld(5, 0.5).chain()}) {
      double[][] target = LmdpExact.optimal(chain).optimalChain;
      SplittableRandom rng = new SplittableRandom(3);
      double[] theta = new double[chain.numParams()];
      double[] weights = new double[chain.numStates()];
      for (int i = 0; i < theta.length; i++) {
        theta[i] = rng.nextGaussian();
      }
      for (int x = 0; x < weights.length; x++) {
        weights[x] = rng.nextDouble();
      }
      double[] g = KlRegression.gradient(chain, target, weights, theta);
      double h = 1e-5;
      for (int k = 0; k < theta.length; k++) {
        double[] plus = theta.clone();
        double[] minus = theta.clone();
        plus[k] += h;
        minus[k] -= h;
        double fd = (KlRegression.objective(chain, target, weights, plus)
            - KlRegression.objective(chain, target, weights, minus)) / (2 * h);
        assertEquals(fd, g[k], 1e-8 * Math.max(1, Math.abs(fd)), "∂R/∂θ_" + k + " of a chain "
            + "with " + theta.length + " parameters");
      }
    }
  }

  @Test
  void withTheExactDesirabilityTheFitReachesJStar() {
    for (LmdpProblems.Problem problem : new LmdpProblems.Problem[] {
        LmdpProblems.gridworld(8, 0.5), LmdpProblems.gaussian(41, 2, 1, 0.1)}) {
      LmdpChain chain = problem.chain();
      LmdpExact.Optimum opt = LmdpExact.optimal(chain);
      double jStar = opt.optimalValue[startState(chain)];
      double[] theta = new double[chain.numParams()];  // from the passive dynamics
      KlRegression.Result r = KlRegression.fit(chain, opt.optimalChain, uniformWeights(chain),
          theta, KlRegression.Options.defaults());
      double j = TabularExact.discounted(chain, 1.0, theta).objective;
      System.out.printf("[dso-zlearn] %s: KL fit to u* in %d Newton steps, R %.2g, "
          + "(J - J*)/J* %.2g%n", problem.name(), r.steps(), r.objective(), (j - jStar) / jStar);
      assertTrue(r.gradientMax() <= 1e-10, "gradient " + r.gradientMax());
      // J - J* = Σ ρ KL(U‖u*) (docs/math.md §5c): at the fit's round-off level
      assertEquals(jStar, j, 1e-9 * jStar, problem.name());
      for (int x = 0; x < chain.numStates(); x++) {
        if (!chain.isTerminal(x)) {
          double[] u = chain.controlled(x, theta);
          for (int y = 0; y < u.length; y++) {
            assertEquals(opt.optimalChain[x][y], u[y], 1e-8, "U(" + y + "|" + x + ")");
          }
        }
      }
    }
  }

  /** docs/math.md §5c: J(θ) - J* = Σ_x ρ_θ(x) KL(U(·|x,θ) ‖ u*(·|x)), the experiment's gap. */
  @Test
  void theGapIsTheVisitationWeightedKlToTheOptimalChain() {
    LmdpChain chain = LmdpProblems.gridworld(6, 0.5).chain();
    LmdpExact.Optimum opt = LmdpExact.optimal(chain);
    SplittableRandom rng = new SplittableRandom(8);
    double[] theta = new double[chain.numParams()];
    for (int i = 0; i < theta.length; i++) {
      theta[i] = 0.5 * rng.nextGaussian();
    }
    DiscountedSolution s = TabularExact.discounted(chain, 1.0, theta);
    double gap = 0;
    for (int x = 0; x < chain.numStates(); x++) {
      if (chain.isTerminal(x)) {
        continue;
      }
      double[] u = chain.controlled(x, theta);
      for (int y = 0; y < u.length; y++) {
        if (u[y] > 0) {
          gap += s.visitation[x] * u[y] * Math.log(u[y] / opt.optimalChain[x][y]);
        }
      }
    }
    double jStar = opt.optimalValue[startState(chain)];
    assertEquals(s.objective - jStar, gap, 1e-9 * s.objective);
  }

  /** A chain whose family misses u*: the fit stops at a stationary point that is a minimum. */
  @Test
  void aRestrictedChainIsFittedToItsKlProjection() {
    LmdpChain chain = restricted();
    double[][] target = LmdpExact.optimal(chain).optimalChain;
    double[] w = uniformWeights(chain);
    double[] theta = new double[chain.numParams()];
    KlRegression.Result r = KlRegression.fit(chain, target, w, theta,
        KlRegression.Options.defaults());
    assertTrue(r.gradientMax() <= 1e-10, "gradient " + r.gradientMax());
    assertTrue(r.objective() > 1e-3, "u* is not in this family, R " + r.objective());
    SplittableRandom rng = new SplittableRandom(4);
    for (int trial = 0; trial < 20; trial++) {
      double[] other = theta.clone();
      for (int k = 0; k < other.length; k++) {
        other[k] += 1e-3 * rng.nextGaussian();
      }
      assertTrue(KlRegression.objective(chain, target, w, other) >= r.objective(),
          "a nearby θ fits better");
    }
  }

  @Test
  void badInputIsRefusedWithTheField() {
    LmdpChain chain = ZLearningTest.walk();
    double[][] target = LmdpExact.optimal(chain).optimalChain;
    double[] theta = new double[chain.numParams()];
    KlRegression.Options o = KlRegression.Options.defaults();
    String message = assertThrows(IllegalArgumentException.class,
        () -> KlRegression.fit(chain, target, new double[7], theta, o)).getMessage();
    assertTrue(message.contains("weights"), message);
    double[] negative = uniformWeights(chain);
    negative[2] = -1;
    message = assertThrows(IllegalArgumentException.class,
        () -> KlRegression.fit(chain, target, negative, theta, o)).getMessage();
    assertTrue(message.contains("weights[2]"), message);
    double[][] outside = new double[7][];
    for (int x = 0; x < 7; x++) {
      outside[x] = target[x].clone();
    }
    outside[0] = new double[] {0.5, 0, 0.5, 0, 0, 0, 0};  // p(2|0) = 0
    message = assertThrows(IllegalArgumentException.class,
        () -> KlRegression.fit(chain, outside, uniformWeights(chain), theta, o)).getMessage();
    assertTrue(message.contains("target"), message);
  }

  private static int startState(LmdpChain chain) {
    double[] p0 = chain.initialDistribution();
    for (int x = 0; x < p0.length; x++) {
      if (p0[x] == 1) {
        return x;
      }
    }
    throw new IllegalStateException("P0: expected a single start state");
  }
}
