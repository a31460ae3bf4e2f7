package io.dsogym.lmdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.oracle.ChainRollouts;
import io.dsogym.oracle.LmdpChain;
import io.dsogym.oracle.LmdpExact;
import java.util.SplittableRandom;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.LUDecomposition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Z-learning (docs/math.md §5) against the exact desirability of {@link LmdpExact}, on- and
 * off-chain, with a tolerance derived from the number of updates each state received.
 */
class ZLearningTest {
  /** c of η_x = c/(c + n_x): values here propagate over about 1/(1 - e^{-0.2}) = 5 steps. */
  private static final double C = 5;

  /**
   * The 7-state first-exit chain of the oracle case lmdp7_first_exit: a walk to the right
   * (0.3 back, 0.3 stay, 0.4 on), q = 0.2, state 6 terminal with q = 0; episodes start anywhere
   * off the terminal state so that every state is learned.
   */
  static LmdpChain walk() {
    int n = 7;
    double[][] p = new double[n][n];
    for (int x = 0; x < n - 1; x++) {
      if (x > 0) {
        p[x][x - 1] = 0.3;
      }
      p[x][x] = x == 0 ? 0.6 : 0.3;
      p[x][x + 1] = 0.4;
    }
    double[] q = {0.2, 0.2, 0.2, 0.2, 0.2, 0.2, 0};
    boolean[] terminal = new boolean[n];
    terminal[n - 1] = true;
    double[] p0 = new double[n];
    for (int x = 0; x < n - 1; x++) {
      p0[x] = 1.0 / (n - 1);
    }
    return LmdpChain.free(p, q, terminal, p0);
  }

  /**
   * 4 × the largest relative standard error of ẑ that the updates leave (docs/math.md §5a).
   * With η_x = c/(c+n) a state's estimate is a weighted mean of its n targets worth
   * n(2c-1)/c² independent ones, so its own noise has variance
   * Var_b[e^{-q(x)} w z(x')] c²/((2c-1) n_x) (w = p/P_b). The linear equation passes that noise
   * on to the states upstream: e = (I - D p_NN)⁻¹ ε, D = diag(e^{-q}). Over seeds 1-8 the
   * worst measured errors are 0.2-2.0 of these standard errors, on- and off-chain.
   */
  static double tolerance(LmdpChain lmdp, double[][] behaviour, double[] visits, double[] z) {
    int n = lmdp.numStates();
    double[][] p = lmdp.passive();
    double[] q = lmdp.stateCosts();
    boolean[] terminal = lmdp.terminalMask();
    double[][] a = new double[n][n];
    double[] variance = new double[n];
    for (int x = 0; x < n; x++) {
      a[x][x] = 1;
      if (terminal[x]) {
        continue;
      }
      double mean = 0;
      double square = 0;
      for (int y = 0; y < n; y++) {
        if (!terminal[y]) {
          a[x][y] -= Math.exp(-q[x]) * p[x][y];
        }
        if (behaviour[x][y] > 0) {
          double target = Math.exp(-q[x]) * p[x][y] / behaviour[x][y] * z[y];
          mean += behaviour[x][y] * target;
          square += behaviour[x][y] * target * target;
        }
      }
      assertTrue(visits[x] > 0, "state " + x + " was never updated");
      variance[x] = (square - mean * mean) * C * C / ((2 * C - 1) * visits[x]);
    }
    double[][] m = new LUDecomposition(new Array2DRowRealMatrix(a)).getSolver().getInverse()
        .getData();
    double worst = 0;
    for (int x = 0; x < n; x++) {
      double v = 0;
      for (int y = 0; y < n; y++) {
        v += m[x][y] * m[x][y] * variance[y];
      }
      worst = Math.max(worst, Math.sqrt(v) / z[x]);
    }
    return 4 * worst;
  }

  @ParameterizedTest(name = "off-chain = {0}")
  @ValueSource(booleans = {false, true})
  void converges(boolean offChain) {
    LmdpChain lmdp = walk();
    double[] z = LmdpExact.optimal(lmdp).desirability;
    // off-chain: a behaviour chain away from p, the free chain at θ ~ N(0, 0.5²) (p's support)
    double[] theta = new double[lmdp.numParams()];
    SplittableRandom thetaRng = new SplittableRandom(11);
    for (int i = 0; offChain && i < theta.length; i++) {
      theta[i] = 0.5 * thetaRng.nextGaussian();
    }
    double[][] behaviour = offChain ? lmdp.transitionMatrix(theta) : lmdp.passive();
    ZLearning learner = new ZLearning(lmdp, C, 1.0);
    SplittableRandom rng = new SplittableRandom(1);
    int learned = 0;
    for (int batch = 0; batch < 40; batch++) {
      // 20 lanes of 1,000 steps under U(θ) (θ = 0 is p itself), episodes restarting anywhere
      learned += learner.learn(ChainRollouts.episodes(lmdp, theta, 20, 1_000, rng), behaviour);
    }
    assertEquals(learned, learner.updates());
    assertTrue(learned > 700_000, "updates " + learned);
    double[] estimate = learner.desirability();
    double tol = tolerance(lmdp, behaviour, learner.visits(), z);
    double worst = 0;
    for (int x = 0; x < z.length; x++) {
      worst = Math.max(worst, Math.abs(estimate[x] - z[x]) / z[x]);
    }
    System.out.printf("[dso-zlearn] %s-chain, %,d updates: max relative error of ẑ %.4f "
        + "(tolerance %.4f)%n", offChain ? "off" : "on", learned, worst, tol);
    assertTrue(tol < 0.06, "the tolerance must still say something, got " + tol);
    assertTrue(worst <= tol, "max relative error " + worst + " > " + tol);
    assertEquals(1.0, estimate[6], 0.0);  // terminal: ẑ = e^{-q} = 1, never updated
    double[] v = learner.value();
    for (int x = 0; x < z.length; x++) {
      assertEquals(-Math.log(estimate[x]), v[x], 0.0);
    }
  }

  @Test
  void theFirstVisitReplacesTheInitialValueAndLaterOnesAverage() {
    LmdpChain lmdp = walk();
    ZLearning learner = new ZLearning(lmdp, 2, 0.5);
    double d = Math.exp(-0.2);
    learner.update(5, 6);  // η = 2/2 = 1: ẑ(5) = e^{-q} ẑ(6) = e^{-0.2}
    assertEquals(d, learner.desirability()[5], 1e-15);
    learner.update(5, 5, 2.0);  // η = 2/3, target e^{-0.2} · 2 · ẑ(5)
    assertEquals(d + 2.0 / 3 * (d * 2 * d - d), learner.desirability()[5], 1e-15);
    assertEquals(0.5, learner.desirability()[0], 0.0);  // not visited yet
    assertEquals(2.0, learner.visits()[5], 0.0);
  }

  @Test
  void badInputIsRefusedWithTheField() {
    LmdpChain lmdp = walk();
    ZLearning learner = new ZLearning(lmdp, 1, 1);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> learner.update(6, 5))
        .getMessage().contains("non-terminal"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> learner.update(0, 1, -1))
        .getMessage().contains("importanceWeight"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new ZLearning(lmdp, 0, 1))
        .getMessage().contains("stepScale"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> new ZLearning(lmdp, 1, Double.NaN)).getMessage().contains("initial"));
    // a behaviour chain that never moves 0 -> 1, where p does
    double[][] behaviour = lmdp.transitionMatrix(new double[lmdp.numParams()]);
    behaviour[0] = new double[] {1, 0, 0, 0, 0, 0, 0};
    ChainRollouts<Integer> batch = ChainRollouts.episodes(lmdp, new double[lmdp.numParams()], 1,
        10, new SplittableRandom(1));
    String message = assertThrows(IllegalArgumentException.class,
        () -> learner.learn(batch, behaviour)).getMessage();
    assertTrue(message.contains("behaviour") && message.contains("0 -> 1"), message);
    assertEquals(0, learner.updates());
  }
}
