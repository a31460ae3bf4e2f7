package io.dsogym.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.Env;
import io.dsogym.env.Tensor;
import io.dsogym.envs.control.LinearQuadraticRegulator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * {@link AffineLqr} against {@link LqrExact} (no offset; LqrChain's u = −Kx + e flips K),
 * against an exact forward propagation of the state's mean and covariance (with an offset),
 * against Monte-Carlo rollouts of {@link LinearQuadraticRegulator}, and its optimum against
 * random gains and the first-order condition ∇_K J = 0.
 */
class AffineLqrTest {
  /** A random 3-state, 2-action system: A with spectral radius about 1.1 (open-loop unstable). */
  private record Sys(double[][] a, double[][] b, double[][] q, double[][] r, double[][] w,
      double[][] x0) {
    AffineLqr lqr() {
      return new AffineLqr(a, b, q, r, w, x0);
    }

    LqrChain chain() {
      return new LqrChain(a, b, q, r, w, x0, ScoreRoute.SAMPLED_ACTION);
    }
  }

  private static Sys randomSystem(SplittableRandom rng) {
    double[][] a = gaussianMatrix(rng, 3, 3, 0.6);
    double radius = Mat.spectralRadius(a);
    a = Mat.combine(1.1 / radius, a, 0, a);
    return new Sys(a, gaussianMatrix(rng, 3, 2, 1.0), randomPsd(rng, 3, 0.5),
        randomPsd(rng, 2, 0.2), randomPsd(rng, 3, 0.05), randomPsd(rng, 3, 0.5));
  }

  private static double[][] gaussianMatrix(SplittableRandom rng, int rows, int cols,
      double scale) {
    double[][] m = new double[rows][cols];
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        m[i][j] = scale * RandomMdp.gaussian(rng);
      }
    }
    return m;
  }

  /** G Gᵀ + ridge·I. */
  private static double[][] randomPsd(SplittableRandom rng, int n, double ridge) {
    double[][] g = gaussianMatrix(rng, n, n, 0.7);
    double[][] m = Mat.mul(g, Mat.transpose(g));
    for (int i = 0; i < n; i++) {
      m[i][i] += ridge;
    }
    return m;
  }

  /** K* + a random perturbation, resampled until √γ(A + BK) is stable. */
  private static double[][] randomStableGain(AffineLqr lqr, Sys sys, double gamma,
      SplittableRandom rng, double scale) {
    double[][] kStar = lqr.optimalGain(gamma);
    while (true) {
      double[][] k = Mat.add(kStar, gaussianMatrix(rng, kStar.length, kStar[0].length, scale));
      if (Math.sqrt(gamma) * Mat.spectralRadius(Mat.add(sys.a, Mat.mul(sys.b, k))) < 0.98) {
        return k;
      }
    }
  }

  private static double relative(double expected) {
    return Math.max(1, Math.abs(expected));
  }

  @Test
  @DisplayName("objective with offset 0 equals LqrExact's J of u = -K'x + e with K' = -K, to 1e-9")
  void matchesLqrExactWithoutOffset() {
    SplittableRandom rng = new SplittableRandom(31);
    for (int trial = 0; trial < 10; trial++) {
      Sys sys = randomSystem(rng);
      AffineLqr lqr = sys.lqr();
      for (double gamma : new double[] {0.5, 0.9, 0.99}) {
        double[][] k = randomStableGain(lqr, sys, gamma, rng, 0.3);
        double[] logStd = {Math.log(0.1 + rng.nextDouble()), Math.log(0.1 + rng.nextDouble())};
        double[][] chainGain = Mat.combine(-1, k, 0, k);
        double exact = LqrExact.solve(sys.chain(), gamma, LqrChain.pack(chainGain, logStd))
            .objective;
        double j = lqr.objective(k, new double[2],
            new double[] {Math.exp(logStd[0]), Math.exp(logStd[1])}, gamma);
        assertEquals(exact, j, 1e-9 * relative(exact), "trial " + trial + ", gamma " + gamma);
      }
    }
  }

  /**
   * J by propagating the exact mean μ_t and covariance Σ_t of x_t forward for H steps
   * (μ_{t+1} = A_K μ_t + B k0, Σ_{t+1} = A_K Σ_t A_Kᵀ + BΣeBᵀ + W) and summing
   * γ^t E[x_tᵀQx_t + u_tᵀRu_t]: no value function, no closed-form sums. The moments are carried
   * discounted (m_t = γ^{t/2} μ_t, S_t = γ^t Σ_t), which stay bounded when √γ·A_K is stable.
   */
  private static double forwardMoments(Sys sys, double[][] k, double[] k0, double[] std,
      double gamma, int horizon) {
    int n = sys.a.length;
    int m = k0.length;
    double[][] ak = Mat.add(sys.a, Mat.mul(sys.b, k));
    double[][] sigmaE = new double[m][m];
    for (int i = 0; i < m; i++) {
      sigmaE[i][i] = std[i] * std[i];
    }
    double[][] noise = Mat.add(Mat.mul(sys.b, Mat.mul(sigmaE, Mat.transpose(sys.b))), sys.w);
    double[] bk0 = Mat.mul(sys.b, k0);
    double root = Math.sqrt(gamma);
    double[] mean = new double[n];       // m_t = γ^{t/2} μ_t
    double[][] cov = Mat.copy(sys.x0);   // S_t = γ^t Σ_t
    double j = 0;
    double discount = 1;                 // γ^t
    for (int t = 0; t < horizon; t++) {
      double half = Math.sqrt(discount);
      double[] uMean = Mat.mul(k, mean);
      for (int i = 0; i < m; i++) {
        uMean[i] += half * k0[i];
      }
      double[][] uCov = Mat.add(Mat.mul(k, Mat.mul(cov, Mat.transpose(k))),
          Mat.combine(discount, sigmaE, 0, sigmaE));
      j += Mat.traceOfProduct(sys.q, cov) + Mat.quadratic(sys.q, mean)
          + Mat.traceOfProduct(sys.r, uCov) + Mat.quadratic(sys.r, uMean);
      double[] next = Mat.mul(ak, mean);
      for (int i = 0; i < n; i++) {
        next[i] = root * (next[i] + half * bk0[i]);
      }
      mean = next;
      cov = Mat.combine(gamma, Mat.mul(ak, Mat.mul(cov, Mat.transpose(ak))),
          gamma * discount, noise);
      discount *= gamma;
    }
    return j;
  }

  @Test
  @DisplayName("objective with an offset equals the exact forward propagation of the state's mean and covariance (H = 3000) to 1e-9")
  void matchesForwardMomentsWithOffset() {
    SplittableRandom rng = new SplittableRandom(32);
    for (int trial = 0; trial < 10; trial++) {
      Sys sys = randomSystem(rng);
      AffineLqr lqr = sys.lqr();
      for (double gamma : new double[] {0.5, 0.9, 0.97}) {
        double[][] k = randomStableGain(lqr, sys, gamma, rng, 0.3);
        double[] k0 = {RandomMdp.gaussian(rng), RandomMdp.gaussian(rng)};
        double[] std = {rng.nextDouble(), 0.0};
        // the discounted moments decay like 0.98^{2t}: at H = 3000 the tail is below 1e-50
        double exact = forwardMoments(sys, k, k0, std, gamma, 3000);
        double j = lqr.objective(k, k0, std, gamma);
        assertEquals(exact, j, 1e-9 * relative(exact), "trial " + trial + ", gamma " + gamma);
      }
    }
  }

  private static Map<String, Object> kwargs(Sys sys, double x0Std, int maxSteps) {
    Map<String, Object> kw = new LinkedHashMap<>();
    kw.put("A", sys.a);
    kw.put("B", sys.b);
    kw.put("Q", sys.q);
    kw.put("R", sys.r);
    kw.put("W", sys.w);
    kw.put("x0_std", x0Std);
    kw.put("max_episode_steps", (double) maxSteps);
    return kw;
  }

  /** Discounted cost sums of LQR-v0 episodes under u = Kx + k0 + std·ε, over H steps. */
  private static double[] rollouts(LinearQuadraticRegulator env, double[][] k, double[] k0,
      double[] std, double gamma, int horizon, int episodes, long seed) {
    SplittableRandom noise = new SplittableRandom(seed);
    int m = k0.length;
    double[] returns = new double[episodes];
    env.reset(seed, Map.of());
    for (int e = 0; e < episodes; e++) {
      double[] x = ((Tensor) env.reset(null, Map.of()).observation()).toDoubleArray();
      double g = 0;
      double discount = 1;
      for (int t = 0; t < horizon; t++) {
        double[] u = Mat.mul(k, x);
        for (int i = 0; i < m; i++) {
          u[i] += k0[i] + std[i] * RandomMdp.gaussian(noise);
        }
        Env.StepResult step = env.step(Tensor.ofFloat64(new int[] {m}, u));
        g += discount * -step.reward();
        discount *= gamma;
        x = ((Tensor) step.observation()).toDoubleArray();
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
    assertTrue(Math.abs(mean - exact) <= 4 * se, what + ": expected the Monte-Carlo mean "
        + mean + " within 4 SE (" + se + ") of the exact " + exact);
  }

  @Test
  @DisplayName("objective with an offset and action noise equals the mean discounted cost of LQR-v0 rollouts within 4 SE (default double integrator and a random 3x2 system)")
  void matchesEnvRollouts() {
    SplittableRandom rng = new SplittableRandom(33);
    // the default env: a double integrator, R = 0.1, W = 1e-4 I, x0 ~ N(0, I)
    LinearQuadraticRegulator integrator = new LinearQuadraticRegulator(
        Map.of("max_episode_steps", 1_000_000.0));
    AffineLqr di = AffineLqr.of(integrator);
    double gamma = 0.95;
    double[][] k = Mat.combine(0.7, di.optimalGain(gamma), 0, di.optimalGain(gamma));
    double[] k0 = {0.5};
    double[] std = {0.3};
    // γ^800 = 1.5e-18: the neglected tail is far below the SE
    assertWithinFourSe(di.objective(k, k0, std, gamma),
        rollouts(integrator, k, k0, std, gamma, 800, 4000, 1), "LQR-v0 default, gamma 0.95");

    Sys sys = randomSystem(rng);
    LinearQuadraticRegulator env = new LinearQuadraticRegulator(kwargs(sys, 0.8, 1_000_000));
    AffineLqr lqr = AffineLqr.of(env);
    gamma = 0.9;
    double[][] kr = randomStableGain(lqr, sys, gamma, rng, 0.2);
    double[] k0r = {0.7, -0.4};
    double[] stdr = {0.5, 0.2};
    assertWithinFourSe(lqr.objective(kr, k0r, stdr, gamma),
        rollouts(env, kr, k0r, stdr, gamma, 400, 4000, 2), "LQR-v0 random 3x2, gamma 0.9");
  }

  @Test
  @DisplayName("optimalObjective equals objective(optimalGain, 0, 0), LqrExact's ∇_K J vanishes there, and it is <= the objective of 100 random stable affine Gaussian policies")
  void optimumIsAMinimum() {
    SplittableRandom rng = new SplittableRandom(34);
    for (int trial = 0; trial < 5; trial++) {
      Sys sys = randomSystem(rng);
      AffineLqr lqr = sys.lqr();
      for (double gamma : new double[] {0.5, 0.9, 0.99}) {
        double opt = lqr.optimalObjective(gamma);
        double[][] kStar = lqr.optimalGain(gamma);
        assertEquals(opt, lqr.objective(kStar, new double[2], new double[2], gamma),
            1e-10 * relative(opt), "J* vs objective(K*), gamma " + gamma);
        // the first-order condition, from the independent closed-form gradient of LqrExact
        LqrExact.Solution s = LqrExact.solve(sys.chain(), gamma,
            LqrChain.pack(Mat.combine(-1, kStar, 0, kStar), new double[] {-20, -20}));
        double[][] probe = Mat.combine(-1, kStar, 0, kStar);
        probe[0][0] += 0.1;
        double gradScale = Mat.maxAbs(LqrExact.solve(sys.chain(), gamma,
            LqrChain.pack(probe, new double[] {-20, -20})).gradientK);
        assertTrue(Mat.maxAbs(s.gradientK) < 1e-8 * gradScale, "∇_K J at K*: expected ~0, got "
            + Mat.maxAbs(s.gradientK) + " (at a 0.1 step away: " + gradScale + ")");
        int checked = 0;
        for (int i = 0; i < 100; i++) {
          double[][] k = randomStableGain(lqr, sys, gamma, rng, 0.05 + rng.nextDouble());
          double[] k0 = {0.3 * RandomMdp.gaussian(rng), 0.3 * RandomMdp.gaussian(rng)};
          double[] std = i % 2 == 0 ? new double[2]
              : new double[] {rng.nextDouble(), rng.nextDouble()};
          double j = lqr.objective(k, k0, std, gamma);
          assertTrue(opt <= j + 1e-10 * relative(j), "J* " + opt + " above " + j);
          checked++;
        }
        assertEquals(100, checked);
      }
    }
  }

  @Test
  @DisplayName("objective is +Infinity when sqrt(gamma)(A + BK) is unstable; errors name the field")
  void unstableAndErrors() {
    double[][] a = {{1.2}};
    double[][] b = {{1}};
    AffineLqr lqr = new AffineLqr(a, b, new double[][] {{1}}, new double[][] {{1}},
        new double[][] {{0.1}}, new double[][] {{1}});
    assertEquals(Double.POSITIVE_INFINITY, lqr.objective(new double[][] {{0}}, new double[] {0},
        new double[] {0}, 0.9));
    // √0.5·1.2 = 0.85 < 1: finite without feedback
    assertTrue(Double.isFinite(lqr.objective(new double[][] {{0}}, new double[] {0},
        new double[] {0}, 0.5)));
    // scalar check: J* from the scalar Riccati equation
    double gamma = 0.9;
    double p = 1;
    for (int i = 0; i < 10000; i++) {
      p = 1 + gamma * 1.44 * p - gamma * gamma * 1.44 * p * p / (1 + gamma * p);
    }
    assertEquals(p * 1 + gamma * p * 0.1 / (1 - gamma), lqr.optimalObjective(gamma), 1e-10);
    assertEquals(-gamma * p * 1.2 / (1 + gamma * p), lqr.optimalGain(gamma)[0][0], 1e-12);

    assertMessage("b", () -> new AffineLqr(a, new double[][] {{1}, {2}}, a, a, a, a));
    assertMessage("q", () -> new AffineLqr(new double[][] {{1, 0}, {0, 1}},
        new double[][] {{1}, {0}}, new double[][] {{1, 2}, {0, 1}}, new double[][] {{1}},
        new double[][] {{0, 0}, {0, 0}}, new double[][] {{1, 0}, {0, 1}}));
    assertMessage("w", () -> new AffineLqr(a, b, a, a, new double[][] {{-1}}, a));
    assertMessage("gainK", () -> lqr.objective(new double[][] {{0, 1}}, new double[] {0},
        new double[] {0}, 0.9));
    assertMessage("offset", () -> lqr.objective(new double[][] {{0}}, new double[] {0, 1},
        new double[] {0}, 0.9));
    assertMessage("actionStd[0]", () -> lqr.objective(new double[][] {{0}}, new double[] {0},
        new double[] {-1}, 0.9));
    assertMessage("gamma", () -> lqr.objective(new double[][] {{0}}, new double[] {0},
        new double[] {0}, 1.0));
    assertMessage("gamma", () -> lqr.optimalObjective(0));
  }

  private static void assertMessage(String field, org.junit.jupiter.api.function.Executable e) {
    IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
    assertTrue(ex.getMessage().startsWith(field), "expected the message to start with "
        + field + ", got: " + ex.getMessage());
  }
}
