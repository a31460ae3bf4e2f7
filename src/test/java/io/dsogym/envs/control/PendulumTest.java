package io.dsogym.envs.control;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.DType;
import io.dsogym.env.Env;
import io.dsogym.envs.EnvRegistry;
import io.dsogym.env.Space;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
import io.dsogym.env.VectorEnvContractTest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class PendulumTest {

  private static Tensor torque(float u) {
    return Tensor.ofFloat32(new int[] {1}, new float[] {u});
  }

  private static Pendulum withState(Map<String, Object> kwargs, double th, double thdot) {
    Pendulum env = new Pendulum(kwargs);
    env.reset(0L, Map.of("state", List.of(th, thdot)));
    return env;
  }

  /**
   * Reference: gymnasium 1.4.0, numpy 2.4.6, in /work/main/.venv:
   * <pre>
   * env = gym.make("Pendulum-v1"); env.reset(seed=0)
   * env.unwrapped.state = np.array([3.0, -0.5])
   * for u in [0.5, -2.0, 1.25, 2.0, -0.3]:
   *     o, r, *_ = env.step(np.array([u], dtype=np.float32))  # repr of state, obs, r
   * </pre>
   * The first reward, -9.025250000011875, carries numpy's float32 rounding of 0.001 * u^2.
   */
  @Test
  void reproducesGymnasiumStepsFromAGivenState() {
    Pendulum env = withState(Map.of(), 3.0, -0.5);
    float[] actions = {0.5f, -2.0f, 1.25f, 2.0f, -0.3f};
    double[][] states = {
        {2.984042000302245, -0.3191599939550996},
        {2.958967738200708, -0.501485242030739},
        {2.950078905854313, -0.1777766469279045},
        {2.9633280179348165, 0.26498224161007106},
        {2.98097670408008, 0.3529737229052707},
    };
    double[][] obs = {
        {-0.9876145720481873, 0.15689967572689056, -0.31915998458862305},
        {-0.9833703637123108, 0.18161146342754364, -0.5014852285385132},
        {-0.9817172288894653, 0.1903451830148697, -0.17777664959430695},
        {-0.9841529130935669, 0.17732197046279907, 0.2649822533130646},
        {-0.9871289730072021, 0.15992626547813416, 0.35297372937202454},
    };
    double[] rewards = {-9.025250000011875, -8.918692969931955, -8.782201320533359,
        -8.710126004575862, -8.788424500723002};
    for (int t = 0; t < actions.length; t++) {
      Env.StepResult s = env.step(torque(actions[t]));
      assertArrayEquals(states[t], env.state(), 1e-13, "state after step " + t);
      assertArrayEquals(obs[t], ((Tensor) s.observation()).toDoubleArray(), 1e-7,
          "observation after step " + t);
      assertEquals(rewards[t], s.reward(), 1e-13, "reward of step " + t);
      assertFalse(s.terminated());
      assertFalse(s.truncated());
    }
  }

  /**
   * Reference: as above with gym.make("Pendulum-v1", g=9.81), state [-2.5, 7.9], u = 2 twice:
   * the angular velocity hits the clip at 8 on the first step.
   */
  @Test
  void gravityKwargAndSpeedClipMatchGymnasium() {
    Pendulum env = withState(Map.of("g", 9.81), -2.5, 7.9);
    Env.StepResult s = env.step(torque(2.0f));
    assertArrayEquals(new double[] {-2.1120162940012244, 7.759674119975514}, env.state(),
        1e-13);
    assertEquals(-12.49500000018999, s.reward(), 1e-13);
    s = env.step(torque(2.0f));
    assertArrayEquals(new double[] {-1.7405624484547426, 7.429076910929634}, env.state(),
        1e-13);
    assertEquals(-10.485867071138433, s.reward(), 1e-13);
    env = withState(Map.of(), 0.0, 7.99);
    env.step(torque(2.0f));
    assertEquals(Pendulum.MAX_SPEED, env.state()[1], 0.0, "theta_dot clipped to max_speed");
  }

  @Test
  void angleNormalizeUsesFloorModulo() {
    assertEquals(0.0, Pendulum.angleNormalize(2 * Math.PI), 1e-15);
    assertEquals(-Math.PI + 0.5, Pendulum.angleNormalize(Math.PI + 0.5), 1e-12);
    assertEquals(Math.PI - 0.5, Pendulum.angleNormalize(-Math.PI - 0.5), 1e-12);
    assertEquals(-3.0, Pendulum.angleNormalize(-3.0), 1e-15);
  }

  @Test
  void neverTerminatesAndTruncatesAtTwoHundredSteps() {
    Pendulum env = new Pendulum();
    env.reset(4L, Map.of());
    for (int t = 1; t <= 200; t++) {
      Env.StepResult s = env.step(torque(t % 2 == 0 ? 2.0f : -2.0f));
      assertFalse(s.terminated());
      assertEquals(t == 200, s.truncated(), "truncated at step " + t);
    }
  }

  @Test
  void specMatchesGymnasium() {
    Pendulum env = new Pendulum();
    assertEquals("Pendulum-v1", env.spec().id());
    assertEquals(200, env.spec().maxEpisodeSteps());
    assertNull(env.spec().rewardThreshold());
    assertEquals(new Space.Box(DType.FLOAT32, new int[] {1}, new double[] {-2},
        new double[] {2}), env.spec().actionSpace());
    Space.Box obs = (Space.Box) env.spec().observationSpace();
    assertArrayEquals(new double[] {1, 1, 8}, obs.high(), 0.0);
    assertArrayEquals(new double[] {-1, -1, -8}, obs.low(), 0.0);
  }

  @Test
  void initialStateCoversThePiAndOneBounds() {
    Pendulum env = new Pendulum();
    double maxTh = 0;
    double maxThdot = 0;
    for (long seed = 0; seed < 300; seed++) {
      env.reset(seed, Map.of());
      double[] s = env.state();
      assertTrue(Math.abs(s[0]) <= Math.PI && Math.abs(s[1]) <= 1.0);
      maxTh = Math.max(maxTh, Math.abs(s[0]));
      maxThdot = Math.max(maxThdot, Math.abs(s[1]));
    }
    assertTrue(maxTh > 3.0 && maxThdot > 0.95, maxTh + " " + maxThdot);
  }

  /** Gymnasium's step does np.clip(u, -max_torque, max_torque): 2.5 acts as 2, -100 as -2. */
  @Test
  void outOfRangeTorqueIsClippedAsGymnasiumDoes() {
    float[][] pairs = {{2.5f, 2.0f}, {-100f, -2.0f}, {Float.MAX_VALUE, 2.0f}};
    for (float[] pair : pairs) {
      Pendulum beyond = withState(Map.of(), 1.0, 0.5);
      Pendulum atBound = withState(Map.of(), 1.0, 0.5);
      Env.StepResult a = beyond.step(torque(pair[0]));
      Env.StepResult b = atBound.step(torque(pair[1]));
      assertArrayEquals(atBound.state(), beyond.state(), 0.0, "state after torque " + pair[0]);
      assertEquals(b.reward(), a.reward(), 0.0, "reward of torque " + pair[0]);
      assertEquals(b.observation(), a.observation());
    }
    // A float64 action is clipped the same way.
    Pendulum env = withState(Map.of(), 1.0, 0.5);
    env.step(Tensor.of(DType.FLOAT64, new int[] {1}, new double[] {3.0}));
    Pendulum twin = withState(Map.of(), 1.0, 0.5);
    twin.step(Tensor.of(DType.FLOAT64, new int[] {1}, new double[] {2.0}));
    assertArrayEquals(twin.state(), env.state(), 0.0);
  }

  @Test
  void nonFiniteOrMisshapenActionIsRejectedAndChangesNothing() {
    Pendulum env = withState(Map.of(), 1.0, 0.5);
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> env.step(torque(bad)));
      assertTrue(e.getMessage().startsWith("action[0]: expected a finite number, got "),
          e.getMessage());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> env.step(Tensor.ofFloat32(new int[] {2}, new float[] {0, 0})));
    assertTrue(e.getMessage().startsWith("action"), e.getMessage());
    assertArrayEquals(new double[] {1.0, 0.5}, env.state(), 0.0);
  }

  /** A request that a vector env refuses moves no lane, also where the lanes clip. */
  @Test
  void vectorEnvTakesOutOfRangeTorquesAndRefusesNanAtomically() {
    VectorEnv env = new SyncVectorEnv(List.of(new Pendulum(), new Pendulum()),
        AutoresetMode.NEXT_STEP);
    Tensor before = (Tensor) env.reset(new long[] {3}).observations();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> env.step(Tensor.ofFloat32(new int[] {2, 1}, new float[] {5f, Float.NaN})));
    assertTrue(e.getMessage().startsWith("actions[1, 0]: expected a finite number"),
        e.getMessage());
    VectorEnv twin = new SyncVectorEnv(List.of(new Pendulum(), new Pendulum()),
        AutoresetMode.NEXT_STEP);
    assertEquals(before, twin.reset(new long[] {3}).observations());
    Value clipped = env.step(Tensor.ofFloat32(new int[] {2, 1}, new float[] {5f, -7f}))
        .observations();
    assertEquals(twin.step(Tensor.ofFloat32(new int[] {2, 1}, new float[] {2f, -2f}))
        .observations(), clipped, "5 and -7 act as 2 and -2, and the refused step left no trace");
  }

  /** Gymnasium (numpy's uniform) refuses a negative bound: "high - low < 0". */
  @Test
  void negativeResetBoundIsRefusedAndChangesNothing() {
    Pendulum env = withState(Map.of(), 1.0, 0.5);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> env.reset(3L, Map.of("x_init", -1.5)));
    assertTrue(e.getMessage().startsWith("options.x_init: expected a number >= 0"),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> env.reset(3L, Map.of("y_init", -0.1)));
    assertTrue(e.getMessage().contains("got -0.1"), e.getMessage());
    assertArrayEquals(new double[] {1.0, 0.5}, env.state(), 0.0);
    env.reset(3L, Map.of("y_init", 12.0));  // beyond the observation bound, as Gymnasium allows
  }

  @Test
  void registryMakesItWithKwargs() {
    Env env = EnvRegistry.defaults().make("Pendulum-v1", Map.of("g", 9.81));
    assertEquals(9.81, ((Pendulum) env).gravity());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Pendulum(Map.of("gravity", 9.81)));
    assertTrue(e.getMessage().contains("'gravity'") && e.getMessage().contains("process_noise"),
        e.getMessage());
  }

  abstract static class Contract extends VectorEnvContractTest {
    abstract AutoresetMode mode();

    @Override
    protected boolean clipsActions() {
      return true;
    }

    @Test
    void outOfBoundsActionsAreClipped() {
      outOfBoundsBoxActionsActAsClippedOnesOrAreRefused();
    }

    @Override
    protected VectorEnv makeVectorEnv(int numEnvs) {
      List<Env> lanes = new ArrayList<>();
      for (int i = 0; i < numEnvs; i++) {
        lanes.add(new Pendulum());
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
