package io.dsogym.envs.classic;

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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class CartPoleTest {

  private static Tensor action(long a) {
    return Tensor.scalarInt64(a);
  }

  private static CartPole withState(double... state) {
    CartPole env = new CartPole();
    env.reset(0L, Map.of("state", toList(state)));
    return env;
  }

  private static List<Object> toList(double... v) {
    List<Object> out = new ArrayList<>();
    for (double d : v) {
      out.add(d);
    }
    return out;
  }

  /**
   * Reference: gymnasium 1.4.0, numpy 2.4.6, in /work/main/.venv:
   * <pre>
   * env = gym.make("CartPole-v1"); env.reset(seed=0)
   * env.unwrapped.state = np.array([0.01, -0.02, 0.03, 0.04])
   * for a in [1, 0, 0, 1, 1]: env.step(a); print(env.unwrapped.state)  # repr of each float
   * </pre>
   */
  @Test
  void reproducesGymnasiumStepsFromAGivenState() {
    CartPole env = withState(0.01, -0.02, 0.03, 0.04);
    long[] actions = {1, 0, 0, 1, 1};
    double[][] expected = {
        {0.009600000000000001, 0.17467919574755525, 0.030799999999999998, -0.2430687179600081},
        {0.013093583914951107, -0.020868848948191993, 0.025938625640799837, 0.0591679999394166},
        {0.012676206935987267, -0.21635292104612766, 0.02712198563958817, 0.3599205713784138},
        {0.008349148515064714, -0.021626799199488206, 0.03432039706715644, 0.0759116989474441},
        {0.00791661253107495, 0.17298676004769037, 0.035838631046105324, -0.20574851582677406},
    };
    for (int t = 0; t < actions.length; t++) {
      Env.StepResult s = env.step(action(actions[t]));
      assertArrayEquals(expected[t], env.state(), 1e-15, "state after step " + t);
      Tensor obs = (Tensor) s.observation();
      assertEquals(DType.FLOAT32, obs.dtype());
      for (int i = 0; i < 4; i++) {
        assertEquals((float) expected[t][i], (float) obs.getDouble(i), 1e-7f,
            "obs[" + i + "] after step " + t + " is the float32 of the state");
      }
      assertEquals(1.0, s.reward());
      assertFalse(s.terminated());
      assertFalse(s.truncated());
    }
  }

  /** Reference: gymnasium as above, state [2.39, 1.0, 0, 0], action 1 twice. */
  @Test
  void terminatingStepPaysOneAndLaterStepsPayZero() {
    CartPole env = withState(2.39, 1.0, 0.0, 0.0);
    Env.StepResult s = env.step(action(1));
    assertArrayEquals(new double[] {2.41, 1.1951219512195121, 0.0, -0.2926829268292683},
        env.state(), 1e-15);
    assertTrue(s.terminated());
    assertFalse(s.truncated());
    assertEquals(1.0, s.reward());
    Env.StepResult after = env.step(action(1));
    assertTrue(after.terminated());
    assertEquals(0.0, after.reward());
  }

  @Test
  void suttonBartoRewardPaysZeroThenMinusOne() {
    CartPole env = new CartPole(Map.of("sutton_barto_reward", true));
    env.reset(0L, Map.of("state", toList(2.39, 1.0, 0.0, 0.0)));
    assertEquals(-1.0, env.step(action(1)).reward());
    env.reset(0L, Map.of());
    assertEquals(0.0, env.step(action(1)).reward());
  }

  @Test
  void terminatesBeyondTwelveDegrees() {
    double limit = 12 * 2 * Math.PI / 360;
    CartPole env = withState(0.0, 0.0, limit - 1e-4, 0.1);  // theta += 0.02 * 0.1
    assertTrue(env.step(action(1)).terminated());
    env = withState(0.0, 0.0, -(limit - 1e-4), -0.1);
    assertTrue(env.step(action(0)).terminated());
    env = withState(0.0, 0.0, limit - 1e-3, 0.0);
    assertFalse(env.step(action(0)).terminated());
  }

  @Test
  void truncatesAtFiveHundredSteps() {
    CartPole env = new CartPole();
    // Balance with a simple PD rule; it keeps CartPole alive for 500 steps from rest.
    env.reset(1L, Map.of("state", toList(0, 0, 0, 0)));
    Env.StepResult s = null;
    for (int t = 1; t <= CartPole.MAX_EPISODE_STEPS; t++) {
      double[] st = env.state();
      long a = st[2] + 0.5 * st[3] + 0.01 * st[0] + 0.1 * st[1] > 0 ? 1 : 0;
      s = env.step(action(a));
      assertFalse(s.terminated(), "the balancing rule lost the pole at step " + t);
      assertEquals(t == CartPole.MAX_EPISODE_STEPS, s.truncated(), "truncated at step " + t);
    }
  }

  @Test
  void specMatchesGymnasium() {
    CartPole env = new CartPole();
    assertEquals("CartPole-v1", env.spec().id());
    assertEquals(500, env.spec().maxEpisodeSteps());
    assertEquals(475.0, env.spec().rewardThreshold());
    assertEquals(new Space.Discrete(2), env.spec().actionSpace());
    Space.Box obs = (Space.Box) env.spec().observationSpace();
    assertEquals(DType.FLOAT32, obs.dtype());
    // np.array([4.8, inf, 12 * 2 * pi / 360 * 2, inf], dtype=np.float32)
    assertArrayEquals(new double[] {4.800000190734863, Double.POSITIVE_INFINITY,
        0.41887903213500977, Double.POSITIVE_INFINITY}, obs.high(), 0.0);
  }

  @Test
  void initialStateIsUniformWithinFiveHundredths() {
    CartPole env = new CartPole();
    double min = 1;
    double max = -1;
    for (long seed = 0; seed < 200; seed++) {
      env.reset(seed, Map.of());
      for (double v : env.state()) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    assertTrue(min >= -0.05 && min < -0.049, "min " + min);
    assertTrue(max < 0.05 && max > 0.049, "max " + max);
  }

  @Test
  void seedsReproduceAndUnseededFirstResetIsRandom() {
    CartPole a = new CartPole();
    CartPole b = new CartPole();
    assertEquals(a.reset(42L, Map.of()).observation(), b.reset(42L, Map.of()).observation());
    assertEquals(a.step(action(1)).observation(), b.step(action(1)).observation());
    assertNotEquals(new CartPole().reset(null, Map.of()).observation(),
        new CartPole().reset(null, Map.of()).observation());
  }

  @Test
  void rejectsUnknownKwargsAndOptions() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new CartPole(Map.of("gravty", 9.81)));
    assertTrue(e.getMessage().contains("gravty") && e.getMessage().contains("sutton_barto"),
        e.getMessage());
    CartPole env = new CartPole();
    e = assertThrows(IllegalArgumentException.class, () -> env.reset(0L, Map.of("stat", 1)));
    assertTrue(e.getMessage().contains("stat") && e.getMessage().contains("state"));
    e = assertThrows(IllegalArgumentException.class,
        () -> env.reset(0L, Map.of("state", toList(1, 2, 3))));
    assertTrue(e.getMessage().contains("options.state"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> env.reset(0L, Map.of("state", toList(5.0, 0, 0, 0))));
    assertTrue(e.getMessage().contains("options.state"), e.getMessage());
  }

  @Test
  void registryMakesIt() {
    Env env = EnvRegistry.defaults().make("CartPole-v1", Map.of());
    assertTrue(env instanceof CartPole);
  }

  /** The vector contract over 3 CartPole lanes; random actions end episodes by termination. */
  abstract static class Contract extends VectorEnvContractTest {
    abstract AutoresetMode mode();

    @Override
    protected VectorEnv makeVectorEnv(int numEnvs) {
      List<Env> lanes = new ArrayList<>();
      for (int i = 0; i < numEnvs; i++) {
        lanes.add(new CartPole());
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
}
