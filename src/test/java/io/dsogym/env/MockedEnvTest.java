package io.dsogym.env;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyMap;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.ArgumentMatchers.isNull;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.lenient;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.mockito.InOrder;
import org.mockito.Mock;
import org.mockito.junit.jupiter.MockitoExtension;

/**
 * The pattern for unit-testing against a scripted env: mock {@link Env} with Mockito, script
 * what reset and step return, drive it through a {@link SyncVectorEnv} (or your agent), and
 * verify the calls it received. Here the scripted episode is: reset -> obs 0, step -> obs 1,
 * step -> obs 2 terminated, and every later reset -> obs 10.
 */
@ExtendWith(MockitoExtension.class)
class MockedEnvTest {
  private static final EnvSpec SPEC = new EnvSpec("Scripted-v0", new Space.Discrete(100),
      new Space.Discrete(2), 0, null);
  private static final Tensor ACTION = Tensor.ofInt64(new int[] {1}, new long[] {1});

  @Mock
  private Env env;

  private static Tensor obs(long v) {
    return Tensor.scalarInt64(v);
  }

  /** lenient: not every test consumes the whole script. */
  @BeforeEach
  void script() {
    lenient().when(env.spec()).thenReturn(SPEC);
    lenient().when(env.reset(any(), anyMap())).thenReturn(
        new Env.ResetResult(obs(0), Map.of()),
        new Env.ResetResult(obs(10), Map.of()));
    lenient().when(env.step(any())).thenReturn(
        new Env.StepResult(obs(1), 1.0, false, false, Map.of()),
        new Env.StepResult(obs(2), 5.0, true, false,
            Map.of("score", Tensor.ofFloat64(new int[0], new double[] {7}))),
        new Env.StepResult(obs(11), 1.0, false, false, Map.of()));
  }

  private static long lane0(Value batch) {
    return ((Tensor) batch).getLong(0);
  }

  @Test
  void sameStepAutoresetResetsTheMockInTheStepThatTerminated() {
    VectorEnv vec = new SyncVectorEnv(List.of(env), AutoresetMode.SAME_STEP);
    assertEquals(0, lane0(vec.reset(new long[] {42}).observations()));
    verify(env).reset(eq(42L), anyMap());

    VectorEnv.VectorStepResult first = vec.step(ACTION);
    assertEquals(1, lane0(first.observations()));
    assertArrayEquals(new int[0], first.endedLanes());
    assertNull(first.finalObservations());

    VectorEnv.VectorStepResult ended = vec.step(ACTION);
    assertArrayEquals(new boolean[] {true}, ended.terminated());
    assertArrayEquals(new double[] {5.0}, ended.rewards());
    assertArrayEquals(new int[] {0}, ended.endedLanes());
    assertEquals(2, lane0(ended.finalObservations()), "the terminal observation");
    assertEquals(10, lane0(ended.observations()), "the first observation of the next episode");
    // as Gymnasium's SAME_STEP: the ended step's info is the final info
    assertEquals(7.0, ended.finalInfo().get("score").getDouble(0));
    assertTrue(ended.finalInfo().get("_score").getBoolean(0));

    InOrder order = inOrder(env);
    order.verify(env).reset(eq(42L), anyMap());
    order.verify(env, times(2)).step(any());
    order.verify(env).reset(isNull(), anyMap());  // autoreset continues the env's generator
  }

  @Test
  void nextStepAutoresetResetsTheMockOnTheFollowingStepWithoutSteppingIt() {
    VectorEnv vec = new SyncVectorEnv(List.of(env), AutoresetMode.NEXT_STEP);
    vec.reset(new long[] {1});
    vec.step(ACTION);
    VectorEnv.VectorStepResult ended = vec.step(ACTION);
    assertArrayEquals(new boolean[] {true}, ended.terminated());
    assertEquals(2, lane0(ended.observations()), "NEXT_STEP returns the terminal observation");
    verify(env, times(1)).reset(any(), anyMap());

    VectorEnv.VectorStepResult resetStep = vec.step(ACTION);
    assertEquals(10, lane0(resetStep.observations()));
    assertArrayEquals(new double[] {0.0}, resetStep.rewards());
    assertArrayEquals(new boolean[] {false}, resetStep.terminated());
    verify(env, times(2)).reset(any(), anyMap());
    verify(env, times(2)).step(any());  // the action of the reset step is not used

    assertEquals(11, lane0(vec.step(ACTION).observations()));
    verify(env, times(3)).step(any());
  }

  @Test
  void disabledAutoresetNeverResetsTheMockAndRefusesToStepAnEndedLane() {
    VectorEnv vec = new SyncVectorEnv(List.of(env), AutoresetMode.DISABLED);
    vec.reset(new long[] {1});
    vec.step(ACTION);
    vec.step(ACTION);
    assertThrows(IllegalStateException.class, () -> vec.step(ACTION));
    verify(env, times(1)).reset(any(), anyMap());
    vec.reset(null, Map.of(), new boolean[] {true});
    assertEquals(11, lane0(vec.step(ACTION).observations()));
  }

  @Test
  void invalidBatchedActionNeverReachesTheMock() {
    VectorEnv vec = new SyncVectorEnv(List.of(env), AutoresetMode.SAME_STEP);
    vec.reset(new long[] {1});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> vec.step(Tensor.ofInt64(new int[] {1}, new long[] {2})));
    assertTrue(e.getMessage().contains("action"), e.getMessage());
    verify(env, never()).step(any());
  }

  @Test
  void stepBeforeResetNeverReachesTheMock() {
    VectorEnv vec = new SyncVectorEnv(List.of(env), AutoresetMode.SAME_STEP);
    assertThrows(IllegalStateException.class, () -> vec.step(ACTION));
    verify(env, never()).step(any());
    verify(env, never()).reset(any(), anyMap());
  }
}
