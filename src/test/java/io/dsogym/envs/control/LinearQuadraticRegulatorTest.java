package io.dsogym.envs.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.DType;
import io.dsogym.env.Env;
import io.dsogym.envs.EnvRegistry;
import io.dsogym.env.Space;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.env.Tensor;
import io.dsogym.env.VectorEnv;
import io.dsogym.env.VectorEnvContractTest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class LinearQuadraticRegulatorTest {

  private static final List<Object> A3 = List.of(List.of(0.9, 0.2, 0.0),
      List.of(-0.1, 1.0, 0.3), List.of(0.05, 0.0, 0.8));
  private static final List<Object> B3 = List.of(List.of(1.0, 0.0), List.of(0.5, -0.2),
      List.of(0.0, 2.0));
  private static final List<Object> Q3 = List.of(List.of(2.0, 0.5, 0.0),
      List.of(0.5, 1.0, 0.0), List.of(0.0, 0.0, 3.0));
  private static final List<Object> R2 = List.of(List.of(0.4, 0.1), List.of(0.1, 0.2));
  private static final List<Object> ZERO3 = List.of(List.of(0.0, 0.0, 0.0),
      List.of(0.0, 0.0, 0.0), List.of(0.0, 0.0, 0.0));

  private static Map<String, Object> noiseless() {
    Map<String, Object> kw = new HashMap<>();
    kw.put("A", A3);
    kw.put("B", B3);
    kw.put("Q", Q3);
    kw.put("R", R2);
    kw.put("W", ZERO3);
    return kw;
  }

  @Test
  void lanesMadeTogetherShareTheirMatricesUntilOneIsReparameterized() {
    Map<String, Object> kw = noiseless();
    List<Env> lanes = EnvRegistry.defaults().makeLanes(LinearQuadraticRegulator.ID, kw, 3);
    LinearQuadraticRegulator a = (LinearQuadraticRegulator) lanes.get(0);
    LinearQuadraticRegulator b = (LinearQuadraticRegulator) lanes.get(1);
    assertTrue(a.sharesModelWith(b), "one parsed and factorized model for all lanes");
    assertTrue(a.spec() == b.spec(), "one spec (its kwargs JSON too) for all lanes");
    LinearQuadraticRegulator alone = new LinearQuadraticRegulator(kw);
    assertEquals(alone.spec(), a.spec());
    assertArrayEquals(alone.systemParams(), a.systemParams());

    // Same seed, same trajectory as a lane made alone.
    a.reset(7L, null);
    alone.reset(7L, null);
    Tensor u = Tensor.ofFloat64(new int[] {2}, new double[] {0.3, -0.1});
    assertArrayEquals(((Tensor) alone.step(u).observation()).toDoubleArray(),
        ((Tensor) a.step(u).observation()).toDoubleArray());

    // Copy on write: reparameterizing one lane leaves its siblings as they were.
    double[] phi = b.systemParams();
    double[] before = phi.clone();
    phi[0] += 1.0;
    b.setSystemParams(phi);
    assertFalse(a.sharesModelWith(b));
    assertArrayEquals(before, a.systemParams());
    assertArrayEquals(before, ((LinearQuadraticRegulator) lanes.get(2)).systemParams());
    assertEquals(phi[0], b.systemParams()[0]);
  }

  @Test
  void withoutNoiseTheNextStateIsAxPlusBuAndTheRewardIsMinusTheCost() {
    LinearQuadraticRegulator env = new LinearQuadraticRegulator(noiseless());
    double[][] a = env.getA();
    double[][] b = env.getB();
    double[][] q = env.getQ();
    double[][] r = env.getR();
    env.reset(3L, Map.of());
    SplittableRandom rng = new SplittableRandom(9);
    for (int t = 0; t < 20; t++) {
      double[] x = env.state();
      double[] u = {rng.nextDouble(-1, 1), rng.nextDouble(-1, 1)};
      Env.StepResult s = env.step(Tensor.ofFloat64(new int[] {2}, u));
      double[] expected = new double[3];
      double cost = 0;
      for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
          expected[i] += a[i][j] * x[j];
          cost += x[i] * q[i][j] * x[j];
        }
        for (int j = 0; j < 2; j++) {
          expected[i] += b[i][j] * u[j];
        }
      }
      for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
          cost += u[i] * r[i][j] * u[j];
        }
      }
      assertArrayEquals(expected, ((Tensor) s.observation()).toDoubleArray(), 1e-12,
          "x' = A x + B u at step " + t);
      assertArrayEquals(expected, env.state(), 1e-12);
      assertEquals(-cost, s.reward(), 1e-12, "reward = -(x'Qx + u'Ru) at step " + t);
      assertFalse(s.terminated());
    }
  }

  @Test
  void handComputedStepOfTheDefaultDoubleIntegrator() {
    Map<String, Object> kw = Map.of("W", List.of(List.of(0.0, 0.0), List.of(0.0, 0.0)));
    LinearQuadraticRegulator env = new LinearQuadraticRegulator(kw);
    env.reset(0L, Map.of("state", List.of(1.0, -2.0)));
    Env.StepResult s = env.step(Tensor.ofFloat64(new int[] {1}, new double[] {3.0}));
    // x' = [1 + 0.1 * -2 + 0.005 * 3, -2 + 0.1 * 3]; cost = 1 + 4 + 0.1 * 9
    assertArrayEquals(new double[] {0.815, -1.7}, env.state(), 1e-12);
    assertEquals(-5.9, s.reward(), 1e-12);
  }

  @Test
  void defaultsAreADoubleIntegratorWithSmallNoise() {
    LinearQuadraticRegulator env = new LinearQuadraticRegulator();
    assertArrayEquals(new double[][] {{1, 0.1}, {0, 1}}, env.getA());
    assertArrayEquals(new double[] {0.005}, env.getB()[0], 1e-17);  // dt^2 / 2
    assertArrayEquals(new double[] {0.1}, env.getB()[1], 0.0);
    assertArrayEquals(new double[][] {{1, 0}, {0, 1}}, env.getQ());
    assertArrayEquals(new double[][] {{0.1}}, env.getR());
    assertArrayEquals(new double[][] {{1e-4, 0}, {0, 1e-4}}, env.getW());
    assertEquals("LQR-v0", env.spec().id());
    assertEquals(200, env.spec().maxEpisodeSteps());
    double inf = Double.POSITIVE_INFINITY;
    assertEquals(Space.Box.uniform(DType.FLOAT64, new int[] {2}, -inf, inf),
        env.spec().observationSpace());
    assertEquals(Space.Box.uniform(DType.FLOAT64, new int[] {1}, -inf, inf),
        env.spec().actionSpace());
    env.getA()[0][0] = 42;
    assertEquals(1.0, env.getA()[0][0], "getters return copies");
  }

  @Test
  void processNoiseHasCovarianceW() {
    // W with correlation; A = 0, B = 0 so x' = w exactly.
    Map<String, Object> kw = new HashMap<>();
    kw.put("A", List.of(List.of(0.0, 0.0), List.of(0.0, 0.0)));
    kw.put("B", List.of(List.of(0.0), List.of(0.0)));
    kw.put("W", List.of(List.of(4.0, 1.2), List.of(1.2, 1.0)));
    kw.put("max_episode_steps", 100000.0);
    LinearQuadraticRegulator env = new LinearQuadraticRegulator(kw);
    env.reset(17L, Map.of());
    int n = 20000;
    double s00 = 0;
    double s01 = 0;
    double s11 = 0;
    Tensor zero = Tensor.ofFloat64(new int[] {1}, new double[] {0});
    for (int i = 0; i < n; i++) {
      env.step(zero);
      double[] w = env.state();
      s00 += w[0] * w[0];
      s01 += w[0] * w[1];
      s11 += w[1] * w[1];
    }
    // Standard errors: sqrt(2 W00^2 / n) = 0.04, sqrt((W00 W11 + W01^2) / n) ~ 0.016,
    // sqrt(2 W11^2 / n) = 0.01; 4 of them.
    assertEquals(4.0, s00 / n, 0.16);
    assertEquals(1.2, s01 / n, 0.064);
    assertEquals(1.0, s11 / n, 0.04);
  }

  @Test
  void initialStateHasStandardDeviationX0Std() {
    LinearQuadraticRegulator env = new LinearQuadraticRegulator(Map.of("x0_std", 0.5));
    double sum2 = 0;
    int n = 4000;
    for (long seed = 0; seed < n / 2; seed++) {
      double[] x = ((Tensor) env.reset(seed, Map.of()).observation()).toDoubleArray();
      sum2 += x[0] * x[0] + x[1] * x[1];
    }
    // E = 0.25, standard error of the mean of x^2 = sqrt(2 * 0.25^2 / 4000) ~ 0.0056
    assertEquals(0.25, sum2 / n, 0.023);
  }

  @Test
  void truncatesAtMaxEpisodeStepsAndNeverTerminates() {
    LinearQuadraticRegulator env = new LinearQuadraticRegulator(Map.of("max_episode_steps", 7));
    assertEquals(7, env.spec().maxEpisodeSteps());
    env.reset(1L, Map.of());
    Tensor u = Tensor.ofFloat64(new int[] {1}, new double[] {0.1});
    for (int t = 1; t <= 7; t++) {
      Env.StepResult s = env.step(u);
      assertFalse(s.terminated());
      assertEquals(t == 7, s.truncated(), "step " + t);
    }
  }

  @Test
  void invalidMatricesAreRejectedNamingTheField() {
    assertMessage("kwargs.A", Map.of("A", List.of(List.of(1.0, 2.0))));
    assertMessage("kwargs.B", Map.of("A", A3));
    assertMessage("kwargs.B", Map.of("A", A3, "B", List.of(List.of(1.0))));
    Map<String, Object> kw = noiseless();
    kw.put("W", List.of(List.of(1.0, 0.0, 0.0), List.of(0.0, -1.0, 0.0),
        List.of(0.0, 0.0, 1.0)));
    assertMessage("kwargs.W", kw);
    kw = noiseless();
    kw.put("Q", List.of(List.of(1.0, 2.0, 0.0), List.of(0.0, 1.0, 0.0),
        List.of(0.0, 0.0, 1.0)));
    assertMessage("kwargs.Q", kw);
    kw = noiseless();
    kw.put("R", List.of(List.of(1.0)));
    assertMessage("kwargs.R", kw);
    assertMessage("kwargs.x0_std", Map.of("x0_std", -1.0));
    assertMessage("kwargs.max_episode_steps", Map.of("max_episode_steps", 2.5));
    assertMessage("'dt'", Map.of("dt", 0.1));
  }

  private static void assertMessage(String expected, Map<String, Object> kwargs) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new LinearQuadraticRegulator(kwargs));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  @Test
  void badActionAndStepBeforeResetAreRejectedWithoutChangingTheState() {
    LinearQuadraticRegulator env = new LinearQuadraticRegulator();
    Tensor ok = Tensor.ofFloat64(new int[] {1}, new double[] {0.5});
    IllegalStateException before = assertThrows(IllegalStateException.class,
        () -> env.step(ok));
    assertTrue(before.getMessage().contains("step called before reset"));
    env.reset(5L, Map.of());
    LinearQuadraticRegulator twin = new LinearQuadraticRegulator();
    twin.reset(5L, Map.of());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> env.step(Tensor.ofFloat64(new int[] {1}, new double[] {Double.POSITIVE_INFINITY})));
    assertTrue(e.getMessage().startsWith("action"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> env.step(Tensor.ofFloat64(new int[] {2}, new double[] {0, 0})));
    assertEquals(twin.step(ok).observation(), env.step(ok).observation());
  }

  @Test
  void registryMakesItAndStateOptionSetsTheState() {
    Env env = EnvRegistry.defaults().make("LQR-v0", Map.of());
    Tensor obs = (Tensor) env.reset(1L, Map.of("state", List.of(0.25, -4.0))).observation();
    assertArrayEquals(new double[] {0.25, -4.0}, obs.toDoubleArray(), 0.0);
    assertNotEquals(obs, env.reset(1L, Map.of()).observation());
  }

  abstract static class Contract extends VectorEnvContractTest {
    abstract AutoresetMode mode();

    @Override
    protected VectorEnv makeVectorEnv(int numEnvs) {
      List<Env> lanes = new ArrayList<>();
      for (int i = 0; i < numEnvs; i++) {
        lanes.add(new LinearQuadraticRegulator(Map.of("max_episode_steps", 50)));
      }
      return new SyncVectorEnv(lanes, mode());
    }
  }

  @Nested
  class SameStepVectorContract extends Contract {
    @Override
    AutoresetMode mode() {
      return AutoresetMode.SAME_STEP;
    }
  }

  @Nested
  class NextStepVectorContract extends Contract {
    @Override
    AutoresetMode mode() {
      return AutoresetMode.NEXT_STEP;
    }
  }

  @Nested
  class DisabledVectorContract extends Contract {
    @Override
    AutoresetMode mode() {
      return AutoresetMode.DISABLED;
    }
  }
}
