package io.dsogym.dso;

import io.dsogym.chain.TrajectoryBatch;

import static io.dsogym.dso.Oracles.oracleCase;
import static io.dsogym.dso.Oracles.vec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import io.dsogym.oracle.ChainRollouts;
import io.dsogym.oracle.LmdpChain;
import io.dsogym.oracle.SoftmaxTabularChain;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** How {@link ChainRollouts} lays sampled chain trajectories out for Algorithm 1. */
class ChainRolloutsTest {
  @Test
  @DisplayName("episodes: a terminal state is its own step (final cost, terminated, no transition), the lane then restarts at step 0; a lane's last non-terminal step is truncated")
  void episodesRecordTerminalStatesAndRestart() {
    JsonObject c = oracleCase("lmdp7_first_exit");
    LmdpChain lmdp = Oracles.lmdpChain(c);
    double[] theta = vec(c, "theta");
    int lanes = 4;
    int steps = 300;
    ChainRollouts<Integer> r = ChainRollouts.episodes(lmdp, theta, lanes, steps,
        new SplittableRandom(3));
    int terminals = 0;
    for (int lane = 0; lane < lanes; lane++) {
      for (int k = 0; k < steps; k++) {
        int i = TrajectoryBatch.index(k, lane, lanes);
        Integer x = r.state(i);
        assertEquals(lmdp.cost(x, theta), r.batch.cost[i], "cost[" + i + "]");
        boolean last = k == steps - 1;
        if (lmdp.isTerminal(x)) {
          terminals++;
          assertTrue(r.batch.terminated[i], "terminated[" + i + "]");
          assertFalse(r.batch.truncated[i], "truncated[" + i + "]");
          assertNull(r.nextState(i), "nextState[" + i + "]");
          if (!last) {
            int j = TrajectoryBatch.index(k + 1, lane, lanes);
            assertEquals(0, r.batch.episodeStep[j], "episodeStep after a terminal state");
            assertEquals(0, r.state(j), "restart state (P0 = e_0)");
          }
        } else {
          assertFalse(r.batch.terminated[i], "terminated[" + i + "]");
          assertEquals(last, r.batch.truncated[i], "truncated[" + i + "]");
          assertNotNull(r.nextState(i), "nextState[" + i + "]");
          if (!last) {
            int j = TrajectoryBatch.index(k + 1, lane, lanes);
            assertEquals(r.nextState(i), r.state(j), "the lane continues from x'");
            assertEquals(r.batch.episodeStep[i] + 1, r.batch.episodeStep[j], "episodeStep");
          }
        }
      }
    }
    assertTrue(terminals > 0, "terminal states: expected some in 1200 first-exit steps, got 0");
  }

  @Test
  @DisplayName("blocks: one chain, block j+1 starts where block j ended; every block's last step is truncated")
  void blocksContinueOneChain() {
    JsonObject c = oracleCase("chain5_average");
    SoftmaxTabularChain chain = Oracles.softmaxChain(c);
    ChainRollouts<Integer> r = ChainRollouts.blocks(chain, vec(c, "theta"), 2, 5, 7,
        new SplittableRandom(4));
    assertEquals(2, r.state(TrajectoryBatch.index(0, 0, 5)), "the start state");
    for (int lane = 0; lane < 5; lane++) {
      for (int k = 0; k < 7; k++) {
        int i = TrajectoryBatch.index(k, lane, 5);
        assertEquals(k == 6, r.batch.truncated[i], "truncated[" + i + "]");
        assertEquals(k, r.batch.episodeStep[i], "episodeStep[" + i + "]");
        int next = k < 6 ? TrajectoryBatch.index(k + 1, lane, 5)
            : lane < 4 ? TrajectoryBatch.index(0, lane + 1, 5) : -1;
        if (next >= 0) {
          assertEquals(r.nextState(i), r.state(next), "continuation after step " + i);
        }
      }
    }
  }
}
