package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.DType;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.Space;
import io.dsogym.env.Spaces;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
import io.dsogym.remote.RemoteVectorEnv;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A real Python worker hosting MuJoCo's HalfCheetah-v5 with 4 lanes, driven from Java over
 * TCP loopback with the server's default SAME_STEP autoreset.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MujocoWorkerTest {
  private static final String ENV = "HalfCheetah-v5";
  private static final int LANES = 4;

  private LiveServer live;
  private RemoteVectorEnv env;

  @BeforeAll
  void startServerAndWorker() throws Exception {
    live = LiveServer.start("mujoco");
    env = live.launchAndAwait(ENV, LANES, null, "cheetah");
  }

  @AfterAll
  void stopEverything() throws Exception {
    try {
      if (env != null) {
        env.close();
      }
    } finally {
      if (live != null) {
        live.close();
      }
    }
  }

  @Test
  void theSpecArrivesDecoded() {
    EnvSpec spec = env.spec();
    assertEquals(ENV, spec.id());
    assertEquals(LANES, env.numEnvs());
    assertEquals(AutoresetMode.SAME_STEP, env.autoresetMode());
    assertEquals(1000, spec.maxEpisodeSteps(), "max_episode_steps");

    Space.Box obs = assertInstanceOf(Space.Box.class, spec.observationSpace());
    assertEquals(DType.FLOAT64, obs.dtype(), "observation dtype");
    assertArrayEquals(new int[] {17}, obs.shape(), "observation shape");
    for (int i = 0; i < 17; i++) {
      assertEquals(Double.NEGATIVE_INFINITY, obs.low()[i], "observation low[" + i + "]");
      assertEquals(Double.POSITIVE_INFINITY, obs.high()[i], "observation high[" + i + "]");
    }

    Space.Box act = assertInstanceOf(Space.Box.class, spec.actionSpace());
    assertEquals(DType.FLOAT32, act.dtype(), "action dtype");
    assertArrayEquals(new int[] {6}, act.shape(), "action shape");
    for (int i = 0; i < 6; i++) {
      assertEquals(-1.0, act.low()[i], "action low[" + i + "]");
      assertEquals(1.0, act.high()[i], "action high[" + i + "]");
    }
  }

  @Test
  void resetWithTheSameSeedsIsDeterministic() {
    long[] seeds = {11, 22, 33, 44};
    Value first = env.reset(seeds).observations();
    env.spec().observationSpace().checkBatch(first, LANES, "reset observations");
    steps(50, new SplittableRandom(5));  // move away from the initial state
    Value second = env.reset(seeds).observations();
    assertEquals(first, second, "observations of two resets with seeds [11, 22, 33, 44]");
    for (int i = 1; i < LANES; i++) {
      assertNotEquals(Spaces.lane(first, 0), Spaces.lane(first, i),
          "lanes 0 and " + i + " have different seeds");
    }
    Value other = env.reset(new long[] {12, 22, 33, 44}).observations();
    assertNotEquals(Spaces.lane(first, 0), Spaces.lane(other, 0), "lane 0 seeds 11 vs 12");
    assertEquals(Spaces.lane(first, 1), Spaces.lane(other, 1), "lane 1, seed 22 both times");
  }

  @Test
  void fiftyStepsWithSampledActionsStayInTheObservationSpace() {
    env.reset(new long[] {7});
    SplittableRandom rng = new SplittableRandom(9);
    Value previous = null;
    for (int t = 0; t < 50; t++) {
      VectorEnv.VectorStepResult s = env.step(sample(rng));
      env.spec().observationSpace().checkBatch(s.observations(), LANES, "step " + t);
      Tensor obs = (Tensor) s.observations();
      for (int k = 0; k < obs.size(); k++) {
        assertTrue(Double.isFinite(obs.getDouble(k)), "step " + t + " obs[" + k + "]");
      }
      for (int i = 0; i < LANES; i++) {
        assertTrue(Double.isFinite(s.rewards()[i]), "step " + t + " reward " + i);
        assertFalse(s.terminated()[i] || s.truncated()[i], "step " + t + " lane " + i
            + " ended (HalfCheetah never terminates; its limit is 1000)");
      }
      assertNotEquals(previous, s.observations(), "step " + t + " changed the state");
      previous = s.observations();
    }
  }

  @Test
  void everyLaneIsTruncatedAtStep1000() {
    env.reset(new long[] {3});
    SplittableRandom rng = new SplittableRandom(4);
    for (int t = 1; t <= 1000; t++) {
      VectorEnv.VectorStepResult s = env.step(sample(rng));
      for (int i = 0; i < LANES; i++) {
        assertFalse(s.terminated()[i], "step " + t + " lane " + i + " terminated");
        assertEquals(t == 1000, s.truncated()[i], "step " + t + " lane " + i + " truncated");
      }
      if (t < 1000) {
        assertEquals(0, s.endedLanes().length, "step " + t + " ended lanes");
      } else {
        assertArrayEquals(new int[] {0, 1, 2, 3}, s.endedLanes(), "ended lanes at step 1000");
        assertNotNull(s.finalObservations(), "final observations at step 1000");
        env.spec().observationSpace().checkBatch(s.finalObservations(), LANES,
            "final observations");
        // SAME_STEP: the returned observations already start the next episodes.
        assertNotEquals(s.finalObservations(), s.observations(),
            "observations after the autoreset");
      }
    }
    VectorEnv.VectorStepResult after = env.step(sample(rng));
    for (int i = 0; i < LANES; i++) {
      assertFalse(after.truncated()[i], "the next episode's first step, lane " + i);
    }
  }

  private void steps(int count, SplittableRandom rng) {
    for (int t = 0; t < count; t++) {
      env.step(sample(rng));
    }
  }

  private Value sample(SplittableRandom rng) {
    List<Value> lanes = new ArrayList<>();
    for (int i = 0; i < LANES; i++) {
      lanes.add(env.spec().actionSpace().sample(rng));
    }
    return Spaces.stack(lanes);
  }
}
