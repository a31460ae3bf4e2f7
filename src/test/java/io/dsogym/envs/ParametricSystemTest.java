package io.dsogym.envs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.DType;
import io.dsogym.env.Env;
import io.dsogym.env.ParametricSystem;
import io.dsogym.env.Tensor;
import io.dsogym.envs.classic.CartPole;
import io.dsogym.envs.control.LinearQuadraticRegulator;
import io.dsogym.envs.control.Pendulum;
import io.dsogym.envs.tabular.TabularChainEnv;
import io.dsogym.wire.Json;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The parametric systems of the Java-native envs (docs/math.md §10): on transitions the envs
 * really produce, the score ∇φ ln p and the cost gradient ∇φ ℓ equal central differences of
 * ln p and ℓ (h = 1e-6: truncation O(h²) and rounding O(1e-16/h) both below 1e-8, hence the
 * 1e-6 relative tolerance); ℓ is the negated reward the env returned; and a bad φ is refused,
 * naming the block, with the env unchanged.
 */
class ParametricSystemTest {
  private static final double H = 1e-6;

  /** One transition recorded from a real step: obs, action, next obs, reward. */
  private record Transition(double[] obs, double[] action, double[] next, double reward) {}

  private static double[] flat(Env env, Object obs) {
    Tensor t = (Tensor) obs;
    if (env.spec().observationSpace() instanceof io.dsogym.env.Space.Discrete d) {
      double[] x = new double[(int) d.n()];
      x[(int) t.getLong(0)] = 1;
      return x;
    }
    double[] x = new double[t.size()];
    t.copyTo(x, 0);
    return x;
  }

  private static Transition step(Env env, Tensor action, double[] raw, long seed) {
    double[] obs = flat(env, env.reset(seed, null).observation());
    Env.StepResult r = env.step(action);
    return new Transition(obs, raw, flat(env, r.observation()), r.reward());
  }

  /** Checks score and cost gradient against central differences at φ, over a few transitions. */
  private static void checkDerivatives(ParametricSystem system, Transition[] ts, double[] phi) {
    int k = phi.length;
    for (Transition t : ts) {
      double[] score = new double[k];
      double logP = system.accumulateTransitionScore(t.obs, 0, t.action, 0, t.next, 0, phi, 1.0,
          score, 0);
      assertEquals(system.transitionLogDensity(t.obs, 0, t.action, 0, t.next, 0, phi), logP,
          1e-12);
      double[] costGrad = new double[k];
      double cost = system.accumulateCostGradient(t.obs, 0, t.action, 0, t.next, 0, phi, 1.0,
          costGrad, 0);
      assertEquals(system.stepCost(t.obs, 0, t.action, 0, t.next, 0, phi), cost, 1e-12);
      for (int j = 0; j < k; j++) {
        double[] plus = phi.clone();
        double[] minus = phi.clone();
        plus[j] += H;
        minus[j] -= H;
        double fdScore = (system.transitionLogDensity(t.obs, 0, t.action, 0, t.next, 0, plus)
            - system.transitionLogDensity(t.obs, 0, t.action, 0, t.next, 0, minus)) / (2 * H);
        double fdCost = (system.stepCost(t.obs, 0, t.action, 0, t.next, 0, plus)
            - system.stepCost(t.obs, 0, t.action, 0, t.next, 0, minus)) / (2 * H);
        assertEquals(fdScore, score[j], 1e-6 * Math.max(1, Math.abs(fdScore)), "score " + j);
        assertEquals(fdCost, costGrad[j], 1e-6 * Math.max(1, Math.abs(fdCost)), "cost " + j);
      }
    }
  }

  @Test
  @DisplayName("TabularChain-v0: softmax logit score, reward gradient, the given tables as φ0")
  void tabular() {
    TabularChainEnv env = new TabularChainEnv(TabularChainEnv.randomKwargs(5, 3, 4));
    double[][][] given = env.transitions();
    double[] phi = env.systemParams();
    env.setSystemParams(phi);
    for (int s = 0; s < 5; s++) {
      for (int a = 0; a < 3; a++) {
        assertArrayEquals(given[s][a], env.transitions()[s][a], 1e-12);  // φ0 reproduces P
      }
    }
    SplittableRandom rng = new SplittableRandom(1);
    for (int i = 0; i < phi.length; i++) {
      phi[i] += 0.5 * rng.nextGaussian();
    }
    env.setSystemParams(phi);
    Transition[] ts = new Transition[6];
    for (int i = 0; i < ts.length; i++) {
      int a = i % 3;
      ts[i] = step(env, Tensor.scalarInt64(a), new double[] {a}, 100 + i);
      assertEquals(-ts[i].reward, env.stepCost(ts[i].obs, 0, ts[i].action, 0, ts[i].next, 0,
          phi), 1e-12);
    }
    checkDerivatives(env, ts, phi);
  }

  @Test
  @DisplayName("LQR-v0: Gaussian score in A, B and the actuator gain; cost gradient in Q and it")
  void lqr() {
    LinearQuadraticRegulator env = new LinearQuadraticRegulator(Json.parseObject(
        "{\"W\": [[0.04, 0.01], [0.01, 0.09]], \"actuator_gain\": 1.3, "
            + "\"actuator_cost\": 0.2}", "kwargs"));
    double[] phi = env.systemParams();
    Transition[] ts = new Transition[4];
    for (int i = 0; i < ts.length; i++) {
      double u = 0.7 - 0.4 * i;
      ts[i] = step(env, Tensor.ofFloat64(new int[] {1}, new double[] {u}), new double[] {u},
          7 + i);
      assertEquals(-ts[i].reward, env.stepCost(ts[i].obs, 0, ts[i].action, 0, ts[i].next, 0,
          phi), 1e-12);
    }
    checkDerivatives(env, ts, phi);
    // the density is the noise's: ln p of a transition is ln N(x' − Ax − Bu; 0, W)
    Transition t = ts[0];
    double[][] a = env.getA();
    double[][] b = env.getB();
    double r0 = t.next[0] - (a[0][0] * t.obs[0] + a[0][1] * t.obs[1] + b[0][0] * t.action[0]);
    double r1 = t.next[1] - (a[1][0] * t.obs[0] + a[1][1] * t.obs[1] + b[1][0] * t.action[0]);
    double det = 0.04 * 0.09 - 0.01 * 0.01;
    double quad = (0.09 * r0 * r0 - 2 * 0.01 * r0 * r1 + 0.04 * r1 * r1) / det;
    assertEquals(-0.5 * (quad + Math.log(det) + 2 * Math.log(2 * Math.PI)),
        env.transitionLogDensity(t.obs, 0, t.action, 0, t.next, 0, phi), 1e-9);
  }

  @Test
  @DisplayName("LQR-v0: a Q whose symmetric part is not PSD is refused, the env unchanged")
  void lqrRefusesBadQ() {
    LinearQuadraticRegulator env = new LinearQuadraticRegulator();
    double[] before = env.systemParams();
    double[] bad = before.clone();
    bad[bad.length - 2] = -1;  // Q[1][1] < 0 (the actuator gain is last)
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> env.setSystemParams(bad));
    assertTrue(e.getMessage().contains("Q"), e.getMessage());
    assertArrayEquals(before, env.systemParams());
    IllegalArgumentException len = assertThrows(IllegalArgumentException.class,
        () -> env.setSystemParams(new double[3]));
    assertTrue(len.getMessage().contains("expected 11 values"), len.getMessage());
  }

  @Test
  @DisplayName("Pendulum-v1 with process noise: score in g, m, l; no noise, no density")
  void pendulum() {
    Pendulum env = new Pendulum(Map.of("process_noise", 0.05, "m", 1.3, "l", 0.8));
    double[] phi = env.systemParams();
    assertArrayEquals(new double[] {10.0, 1.3, 0.8}, phi);
    Transition[] ts = new Transition[5];
    for (int i = 0; i < ts.length; i++) {
      float u = (float) (1.5 - 0.7 * i);  // includes torques beyond the clip of 2
      ts[i] = step(env, Tensor.ofFloat32(new int[] {1}, new float[] {u}), new double[] {u},
          40 + i);
      assertEquals(-ts[i].reward, env.stepCost(ts[i].obs, 0, ts[i].action, 0, ts[i].next, 0,
          phi), 1e-5);
    }
    checkDerivatives(env, ts, phi);
    // the residual of a real step is the noise: |z| well within a few σ
    for (Transition t : ts) {
      double logP = env.transitionLogDensity(t.obs, 0, t.action, 0, t.next, 0, phi);
      assertTrue(logP > -0.5 * 25 - Math.log(0.05) - 1, "residual beyond 5σ: ln p " + logP);
    }
    Pendulum deterministic = new Pendulum();
    Transition t = step(deterministic, Tensor.ofFloat32(new int[] {1}, new float[] {0.5f}),
        new double[] {0.5}, 1);
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> deterministic.transitionLogDensity(t.obs, 0, t.action, 0, t.next, 0,
            deterministic.systemParams()));
    assertTrue(e.getMessage().contains("process_noise"), e.getMessage());
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
        () -> env.setSystemParams(new double[] {10, -1, 1}));
    assertTrue(bad.getMessage().contains("m: expected a finite mass > 0"), bad.getMessage());
    assertArrayEquals(phi, env.systemParams());
  }

  @Test
  @DisplayName("Pendulum-v1 without process noise steps exactly as before (no random draw)")
  void pendulumNoiseFreeUnchanged() {
    Pendulum a = new Pendulum();
    Pendulum b = new Pendulum(Map.of("m", 1.0, "l", 1.0, "process_noise", 0.0));
    a.reset(5L, null);
    b.reset(5L, null);
    for (int i = 0; i < 50; i++) {
      Tensor u = Tensor.ofFloat32(new int[] {1}, new float[] {(float) Math.sin(i)});
      a.step(u);
      b.step(u);
      assertArrayEquals(a.state(), b.state());
    }
    assertEquals(DType.FLOAT32, ((Tensor) a.reset(1L, null).observation()).dtype());
  }

  @Test
  @DisplayName("CartPole-v1 with process noise: closed-form score in all five physical constants")
  void cartPole() {
    CartPole env = new CartPole(Map.of("process_noise", 0.02, "length", 0.7, "masspole", 0.2));
    double[] phi = env.systemParams();
    assertArrayEquals(new double[] {9.8, 1.0, 0.2, 0.7, 10.0}, phi);
    Transition[] ts = new Transition[6];
    for (int i = 0; i < ts.length; i++) {
      int a = i % 2;
      double[] obs = flat(env, env.reset(60L + i, Map.of("low", -0.2, "high", 0.2))
          .observation());
      Env.StepResult r = env.step(Tensor.scalarInt64(a));
      ts[i] = new Transition(obs, new double[] {a}, flat(env, r.observation()), r.reward());
      assertEquals(-ts[i].reward, env.stepCost(ts[i].obs, 0, ts[i].action, 0, ts[i].next, 0,
          phi), 0);
    }
    checkDerivatives(env, ts, phi);
    for (Transition t : ts) {  // a real step's residual is the noise
      assertTrue(env.transitionLogDensity(t.obs, 0, t.action, 0, t.next, 0, phi)
          > -0.5 * 2 * 25 - 2 * Math.log(0.02) - Math.log(2 * Math.PI));
    }
    CartPole plain = new CartPole();
    CartPole same = new CartPole(Map.of("gravity", 9.8, "process_noise", 0.0));
    plain.reset(3L, null);
    same.reset(3L, null);
    for (int i = 0; i < 30; i++) {
      plain.step(Tensor.scalarInt64(i % 2));
      same.step(Tensor.scalarInt64(i % 2));
      assertArrayEquals(plain.state(), same.state());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> env.setSystemParams(new double[] {9.8, 1, 0.1, 0, 10}));
    assertTrue(e.getMessage().contains("length: expected a finite number > 0, got 0.0"),
        e.getMessage());
  }
}
