package io.dsogym.env;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.envs.classic.CartPole;
import io.dsogym.envs.control.Pendulum;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The previous action joins the observation: 0 at an episode's start, then the action just
 * taken; the wrapped env's own observation, reward and flags pass through unchanged, and a
 * refused action changes nothing.
 */
class PreviousActionObservationTest {
  @Test
  void appendsTheDiscreteActionTakenBefore() {
    PreviousActionObservation env = new PreviousActionObservation(new CartPole());
    CartPole plain = new CartPole();
    Space.Box box = (Space.Box) env.spec().observationSpace();
    assertArrayEquals(new int[] {5}, box.shape());
    assertEquals(0, box.low()[4]);
    assertEquals(1, box.high()[4]);
    double[] first = ((Tensor) env.reset(7L, Map.of()).observation()).toDoubleArray();
    double[] plainFirst = ((Tensor) plain.reset(7L, Map.of()).observation()).toDoubleArray();
    assertArrayEquals(plainFirst, Arrays.copyOf(first, 4));
    assertEquals(0, first[4]);
    for (long a : new long[] {1, 1, 0}) {
      Env.StepResult r = env.step(Tensor.scalarInt64(a));
      Env.StepResult p = plain.step(Tensor.scalarInt64(a));
      double[] obs = ((Tensor) r.observation()).toDoubleArray();
      assertArrayEquals(((Tensor) p.observation()).toDoubleArray(), Arrays.copyOf(obs, 4));
      assertEquals(a, obs[4]);
      assertEquals(p.reward(), r.reward());
      assertEquals(p.terminated(), r.terminated());
      box.check(r.observation(), "observation");
    }
    // a refused action leaves the previous action as it was
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> env.step(Tensor.scalarInt64(5))).getMessage().contains("action"));
    double[] after = ((Tensor) env.step(Tensor.scalarInt64(1)).observation()).toDoubleArray();
    assertEquals(1, after[4]);
    assertEquals(0, ((Tensor) env.reset(8L, Map.of()).observation()).toDoubleArray()[4]);
  }

  @Test
  void appendsABoxActionsValues() {
    PreviousActionObservation env = new PreviousActionObservation(new Pendulum());
    assertEquals(4, ((Space.Box) env.spec().observationSpace()).shape()[0]);
    env.reset(1L, Map.of());
    double[] obs = ((Tensor) env.step(Tensor.ofFloat32(new int[] {1}, new float[] {-1.5f}))
        .observation()).toDoubleArray();
    assertEquals(-1.5, obs[3], 0.0);
  }

  /** Pendulum clips its torque; the observed previous action is the torque it applied. */
  @Test
  void clipsWhereTheWrappedEnvClips() {
    PreviousActionObservation env = new PreviousActionObservation(new Pendulum());
    assertTrue(env.clipsActions());
    assertTrue(!new PreviousActionObservation(new CartPole()).clipsActions());
    env.reset(1L, Map.of());
    Env.StepResult r = env.step(Tensor.ofFloat32(new int[] {1}, new float[] {7f}));
    assertEquals(2.0, ((Tensor) r.observation()).toDoubleArray()[3], 0.0);
    env.spec().observationSpace().check(r.observation(), "observation");
  }
}
