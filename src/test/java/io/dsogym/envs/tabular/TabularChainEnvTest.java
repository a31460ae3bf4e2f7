package io.dsogym.envs.tabular;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.AutoresetMode;
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

class TabularChainEnvTest {

  /** A 3-state, 2-action chain with no terminal state (so every step is a transition). */
  private static Map<String, Object> threeStateChain() {
    Map<String, Object> kw = new HashMap<>();
    kw.put("transitions", List.of(
        List.of(List.of(0.2, 0.5, 0.3), List.of(0.0, 0.1, 0.9)),
        List.of(List.of(1.0, 0.0, 0.0), List.of(0.25, 0.25, 0.5)),
        List.of(List.of(0.6, 0.0, 0.4), List.of(0.05, 0.9, 0.05))));
    kw.put("rewards", List.of(List.of(1.0, -1.0), List.of(0.5, 2.0), List.of(0.0, 3.0)));
    kw.put("initial", List.of(0.5, 0.5, 0.0));
    kw.put("max_episode_steps", 1_000_000.0);
    return kw;
  }

  @Test
  void lanesMadeTogetherShareTheirTablesUntilOneIsReparameterized() {
    Map<String, Object> kw = TabularChainEnv.randomKwargs(6, 2, 3);
    List<Env> lanes = EnvRegistry.defaults().makeLanes(TabularChainEnv.ID, kw, 3);
    TabularChainEnv a = (TabularChainEnv) lanes.get(0);
    TabularChainEnv b = (TabularChainEnv) lanes.get(1);
    TabularChainEnv c = (TabularChainEnv) lanes.get(2);
    assertTrue(a.sharesTablesWith(b) && b.sharesTablesWith(c));
    TabularChainEnv alone = new TabularChainEnv(kw);
    assertEquals(alone.spec(), a.spec());
    assertArrayEquals(alone.systemParams(), b.systemParams());

    // Same seed, same trajectory as a lane made alone.
    b.reset(5L, null);
    alone.reset(5L, null);
    for (int t = 0; t < 50; t++) {
      Tensor action = Tensor.scalarInt64(t % 2);
      assertEquals(alone.step(action), b.step(action));
    }

    // Copy on write: reparameterizing one lane, even the first, leaves its siblings alone.
    double[] before = a.systemParams();
    double[] phi = before.clone();
    phi[0] += 0.5;
    phi[phi.length - 1] = -0.25;
    a.setSystemParams(phi);
    assertFalse(a.sharesTablesWith(b));
    assertTrue(b.sharesTablesWith(c));
    assertArrayEquals(before, b.systemParams());
    assertArrayEquals(before, c.systemParams());
    assertEquals(-0.25, a.systemParams()[phi.length - 1]);
  }

  @Test
  void aRandomMdpTooBigForItsFewBytesOfKwargsIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new TabularChainEnv(Map.of("random", Map.of("states", 10_000, "actions", 1_000))));
    assertTrue(e.getMessage().contains("kwargs.random")
        && e.getMessage().contains("10000 x 1000 x 10000 = 100000000000"), e.getMessage());
    new TabularChainEnv(Map.of("random", Map.of("states", 1000, "actions", 1)));
  }

  @Test
  void empiricalTransitionFrequenciesMatchPWithinFourStandardErrors() {
    TabularChainEnv env = new TabularChainEnv(threeStateChain());
    double[][][] p = env.transitions();
    double[][] r = env.rewards();
    int[][][] counts = new int[3][2][3];
    int[][] visits = new int[3][2];
    SplittableRandom actions = new SplittableRandom(2);
    int s = (int) ((Tensor) env.reset(123L, Map.of()).observation()).getLong(0);
    for (int t = 0; t < 20000; t++) {
      int a = actions.nextInt(2);
      Env.StepResult step = env.step(Tensor.scalarInt64(a));
      assertEquals(r[s][a], step.reward(), "reward r[" + s + "][" + a + "]");
      int next = (int) ((Tensor) step.observation()).getLong(0);
      counts[s][a][next]++;
      visits[s][a]++;
      s = next;
    }
    for (int i = 0; i < 3; i++) {
      for (int a = 0; a < 2; a++) {
        int n = visits[i][a];
        assertTrue(n > 1000, "too few visits to (" + i + ", " + a + "): " + n);
        for (int j = 0; j < 3; j++) {
          double pij = p[i][a][j];
          double freq = (double) counts[i][a][j] / n;
          if (pij == 0.0) {
            assertEquals(0, counts[i][a][j], "impossible transition " + i + "," + a + "->" + j);
            continue;
          }
          double se = Math.sqrt(pij * (1 - pij) / n);
          assertEquals(pij, freq, 4 * se + 1e-12, "P[" + i + "][" + a + "][" + j + "]");
        }
      }
    }
  }

  @Test
  void initialDistributionIsSampled() {
    TabularChainEnv env = new TabularChainEnv(threeStateChain());
    int[] counts = new int[3];
    for (long seed = 0; seed < 4000; seed++) {
      counts[(int) ((Tensor) env.reset(seed, Map.of()).observation()).getLong(0)]++;
    }
    assertEquals(0, counts[2]);
    // p = 0.5, n = 4000: standard error 0.0079
    assertEquals(0.5, counts[0] / 4000.0, 4 * 0.0079);
  }

  @Test
  void defaultIsTheFourByFourSlipperyGridworld() {
    TabularChainEnv env = (TabularChainEnv) EnvRegistry.defaults()
        .make("TabularChain-v0", Map.of());
    assertEquals(16, env.numStates());
    assertEquals(4, env.numActions());
    assertEquals(new Space.Discrete(16), env.spec().observationSpace());
    assertEquals(new Space.Discrete(4), env.spec().actionSpace());
    assertEquals(100, env.spec().maxEpisodeSteps());
    assertArrayEquals(new int[] {15}, env.terminalStates());
    double[][][] p = env.transitions();
    // State 5 = (row 1, col 1); RIGHT goes to 6 with 0.9, the other moves 0.1 / 3 each.
    assertEquals(0.9, p[5][TabularChainEnv.RIGHT][6], 1e-15);
    assertEquals(0.1 / 3, p[5][TabularChainEnv.RIGHT][1], 1e-15);
    assertEquals(0.1 / 3, p[5][TabularChainEnv.RIGHT][9], 1e-15);
    assertEquals(0.1 / 3, p[5][TabularChainEnv.RIGHT][4], 1e-15);
    // State 0, UP bumps into the wall (0.9) and LEFT slips into it too.
    assertEquals(0.9 + 0.1 / 3, p[0][TabularChainEnv.UP][0], 1e-15);
    assertEquals(0.1 / 3, p[0][TabularChainEnv.UP][1], 1e-15);
    assertEquals(0.1 / 3, p[0][TabularChainEnv.UP][4], 1e-15);
    assertEquals(1.0, p[15][TabularChainEnv.DOWN][15]);
    assertEquals(-1.0, env.rewards()[0][0]);
    assertEquals(0.0, env.rewards()[15][0]);
    assertArrayEquals(new double[] {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
        env.initialDistribution(), 0.0);
    assertEquals(0L, ((Tensor) env.reset(1L, Map.of()).observation()).getLong(0));
  }

  @Test
  void reachingTheGoalTerminates() {
    TabularChainEnv env = TabularChainEnv.gridworld(2, 2, 0.0);
    env.reset(0L, Map.of());
    Env.StepResult s = env.step(Tensor.scalarInt64(TabularChainEnv.RIGHT));
    assertEquals(1L, ((Tensor) s.observation()).getLong(0));
    assertFalse(s.terminated());
    assertEquals(-1.0, s.reward());
    s = env.step(Tensor.scalarInt64(TabularChainEnv.DOWN));
    assertEquals(3L, ((Tensor) s.observation()).getLong(0));
    assertTrue(s.terminated());
    assertFalse(s.truncated());
  }

  @Test
  void truncatesAtMaxEpisodeSteps() {
    Map<String, Object> kw = new HashMap<>(TabularChainEnv.gridworldKwargs(3, 3, 0.0));
    kw.put("max_episode_steps", 5.0);
    TabularChainEnv env = new TabularChainEnv(kw);
    env.reset(0L, Map.of());
    for (int t = 1; t <= 5; t++) {
      Env.StepResult s = env.step(Tensor.scalarInt64(TabularChainEnv.UP));  // into the wall
      assertFalse(s.terminated());
      assertEquals(t == 5, s.truncated(), "step " + t);
    }
  }

  @Test
  void invalidTablesAreRejectedNamingTheFieldAndIndex() {
    Map<String, Object> kw = threeStateChain();
    kw.put("transitions", List.of(
        List.of(List.of(0.2, 0.5, 0.3), List.of(0.0, 0.1, 0.9)),
        List.of(List.of(1.0, 0.0, 0.0), List.of(0.25, 0.25, 0.4)),
        List.of(List.of(0.6, 0.0, 0.4), List.of(0.05, 0.9, 0.05))));
    assertMessage("kwargs.transitions[1][1]", kw);
    kw.put("transitions", List.of(
        List.of(List.of(0.2, 0.5, 0.3), List.of(0.0, 0.1, 0.9)),
        List.of(List.of(1.0, 0.0, 0.0), List.of(0.25, 0.25, 0.5)),
        List.of(List.of(0.6, 0.0, 0.4), List.of(-0.05, 1.0, 0.05))));
    assertMessage("kwargs.transitions[2][1][0]", kw);
    kw = threeStateChain();
    kw.put("initial", List.of(0.5, 0.6, 0.0));
    assertMessage("kwargs.initial", kw);
    kw = threeStateChain();
    kw.put("rewards", List.of(List.of(1.0, -1.0), List.of(0.5, 2.0)));
    assertMessage("kwargs.rewards", kw);
    kw = threeStateChain();
    kw.put("terminal", List.of(3.0));
    assertMessage("kwargs.terminal[0]", kw);
    kw = threeStateChain();
    kw.put("terminal", List.of(0.0));
    assertMessage("kwargs.initial[0]", kw);
    kw = threeStateChain();
    kw.remove("rewards");
    assertMessage("kwargs.rewards", kw);
    assertMessage("kwargs.rewards", Map.of("rewards", List.of()));
    assertMessage("'slip'", Map.of("slip", 0.2));
    // A sum off by less than 1e-9 is accepted.
    kw = threeStateChain();
    kw.put("initial", List.of(0.5, 0.5 + 5e-10, 0.0));
    new TabularChainEnv(kw);
  }

  private static void assertMessage(String expected, Map<String, Object> kwargs) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new TabularChainEnv(kwargs));
    assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: "
        + e.getMessage());
  }

  @Test
  void badActionIsRejectedAndChangesNothing() {
    TabularChainEnv env = TabularChainEnv.gridworld(4, 4, 0.1);
    assertTrue(assertThrows(IllegalStateException.class,
        () -> env.step(Tensor.scalarInt64(0))).getMessage().contains("step called before reset"));
    env.reset(9L, Map.of("state", 5.0));
    TabularChainEnv twin = TabularChainEnv.gridworld(4, 4, 0.1);
    twin.reset(9L, Map.of("state", 5.0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> env.step(Tensor.scalarInt64(4)));
    assertTrue(e.getMessage().startsWith("action"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> env.step(Tensor.ofFloat64(new int[0], new double[] {1})));
    assertEquals(5, env.state());
    for (int t = 0; t < 10; t++) {
      Tensor a = Tensor.scalarInt64(t % 4);
      assertEquals(twin.step(a).observation(), env.step(a).observation());
    }
  }

  abstract static class Contract extends VectorEnvContractTest {
    abstract AutoresetMode mode();

    @Override
    protected VectorEnv makeVectorEnv(int numEnvs) {
      // A short time limit so random actions both reach the goal and run out of time.
      Map<String, Object> kw = new HashMap<>(TabularChainEnv.gridworldKwargs(5, 5, 0.1));
      kw.put("max_episode_steps", 12.0);
      // Start anywhere but the goal (state 24), so the seeding part of the contract applies
      // (random initial states, one per lane, that differ between seeds).
      List<Object> initial = new ArrayList<>(java.util.Collections.nCopies(24, (Object) (1.0 / 24)));
      initial.add(0.0);
      kw.put("initial", initial);
      List<Env> lanes = new ArrayList<>();
      for (int i = 0; i < numEnvs; i++) {
        lanes.add(new TabularChainEnv(kw));
      }
      return new SyncVectorEnv(lanes, mode());
    }

    @Override
    protected boolean terminatesUnderRandomActions(io.dsogym.env.EnvSpec spec) {
      return true;
    }

    @Override
    protected int timeLimitTestSteps(io.dsogym.env.EnvSpec spec) {
      return 150;
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
