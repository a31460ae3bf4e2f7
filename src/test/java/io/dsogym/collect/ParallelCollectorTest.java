package io.dsogym.collect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.env.AutoresetMode;
import io.dsogym.env.Env;
import io.dsogym.env.EnvUnavailableException;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
import io.dsogym.env.VectorEnvWrapper;
import io.dsogym.envs.classic.CartPole;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policies;
import io.dsogym.policy.Policy;
import io.dsogym.policy.PolicySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.Test;

/**
 * The collector over several workers: the batch's layout, the quorum and late chunks, a lost
 * worker's replacement. Stand-in sub-collectors check the bookkeeping exactly; the straggler
 * test runs real server-side collectors over Java CartPole lanes, one held back at its env.
 */
class ParallelCollectorTest {
  private static final int STEPS = 3;

  /**
   * A stand-in worker: transition (k, lane) gets cost = -(100 id + 10 k + lane) and ln π =
   * theta[0], so the test sees which worker, step and lane each column holds and under which
   * θ it was sampled. A gate holds its collect back; it can fail once with a lost worker.
   */
  private static final class StandIn implements Collector {
    final int id;
    final int lanes;
    final Semaphore gate = new Semaphore(Integer.MAX_VALUE / 2);
    volatile boolean loseNext;
    volatile RuntimeException failNext;
    final List<ObservationNormalizer> seen = new ArrayList<>();
    int collects;
    boolean closed;

    StandIn(int id, int lanes) {
      this.id = id;
      this.lanes = lanes;
    }

    @Override
    public void collect(double[] theta, ObservationNormalizer normalizer, int stepsPerLane,
        TrajectoryBatch out) {
      gate.acquireUninterruptibly();
      collects++;
      seen.add(normalizer);
      if (loseNext) {
        loseNext = false;
        throw new EnvUnavailableException(EnvUnavailableException.Reason.UNAVAILABLE,
            "stand-in " + id + " disconnected", null);
      }
      if (failNext != null) {
        throw failNext;
      }
      out.ensureCapacity(lanes, stepsPerLane);
      out.offChain = false;
      for (int k = 0; k < stepsPerLane; k++) {
        for (int lane = 0; lane < lanes; lane++) {
          int i = k * lanes + lane;
          out.cost[i] = -(100 * id + 10 * k + lane);
          out.logProb[i] = theta[0];
          out.obs[i] = id;
          out.episodeStep[i] = k;
        }
      }
    }

    void hold() {
      gate.drainPermits();
    }

    void release() {
      gate.release(Integer.MAX_VALUE / 2);
    }

    @Override
    public int numLanes() {
      return lanes;
    }

    @Override
    public String describe() {
      return "stand-in " + id;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  private static ParallelCollector.Replacement noReplacement() {
    return (w, cause) -> {
      throw new AssertionError("no worker should be replaced: " + cause);
    };
  }

  private static ObservationNormalizer stats() {
    ObservationNormalizer n = new ObservationNormalizer(1, true, 10);
    n.set(new double[] {0.5}, new double[] {2.0}, 7);
    return n;
  }

  /** The worker id (hundreds) of each column, read from step 0. */
  private static int[] workerOfColumn(TrajectoryBatch b) {
    int[] ids = new int[b.numLanes];
    for (int c = 0; c < b.numLanes; c++) {
      ids[c] = (int) (-b.cost[c]) / 100;
    }
    return ids;
  }

  @Test
  void withQuorumOneEveryWorkersChunkJoinsInWorkerOrderStepMajor() {
    StandIn a = new StandIn(0, 2);
    StandIn b = new StandIn(1, 3);
    ObservationNormalizer normalizer = stats();
    try (ParallelCollector c = new ParallelCollector(List.of(a, b), 1.0, noReplacement())) {
      TrajectoryBatch out = new TrajectoryBatch(1, 1);
      c.collect(new double[] {0.25}, normalizer, STEPS, out);
      assertEquals(5, out.numLanes);
      assertEquals(5, c.numLanes());
      assertFalse(out.offChain);
      assertArrayEquals(new int[] {0, 1, 2, 3, 4}, out.laneId);
      for (int k = 0; k < STEPS; k++) {
        for (int col = 0; col < 5; col++) {
          int i = TrajectoryBatch.index(k, col, 5);
          double expected = col < 2 ? 10 * k + col : 100 + 10 * k + (col - 2);
          assertEquals(expected, -out.cost[i] + 0.0, "step " + k + ", column " + col);
          assertEquals(0.25, out.logProb[i]);
          assertEquals(k, out.episodeStep[i]);
        }
      }
      // each sub-collect read a snapshot of the statistics, not the learner's own object
      ObservationNormalizer seen = a.seen.get(0);
      assertNotSame(normalizer, seen);
      assertArrayEquals(normalizer.mean(), seen.mean());
      assertArrayEquals(normalizer.var(), seen.var());
      assertEquals(normalizer.count(), seen.count());
      assertSame(seen, b.seen.get(0), "one snapshot per collect, shared read-only");
      assertEquals(0, c.lateChunks());
    }
    assertTrue(a.closed && b.closed);
  }

  @Test
  void aStragglersChunkJoinsTheNextBatchAheadOfTheFreshOnesAndMarksItOffChain() {
    StandIn fast = new StandIn(0, 2);
    StandIn slow = new StandIn(1, 2);
    try (ParallelCollector c = new ParallelCollector(List.of(fast, slow), 0.5,
        noReplacement())) {
      TrajectoryBatch out = new TrajectoryBatch(1, 1);
      slow.hold();
      c.collect(new double[] {1}, null, STEPS, out);  // closes on the fast worker's half
      assertArrayEquals(new int[] {0, 0}, workerOfColumn(out));
      assertArrayEquals(new int[] {0, 1}, out.laneId);
      assertFalse(out.offChain);

      fast.hold();  // now the slow one's late chunk, then its fresh one, close the batch
      slow.release();
      c.collect(new double[] {2}, null, STEPS, out);
      assertArrayEquals(new int[] {1, 1, 1, 1}, workerOfColumn(out));
      assertArrayEquals(new int[] {2, 3, 2, 3}, out.laneId, "the late chunk first, then the "
          + "same lanes' fresh chunk");
      assertTrue(out.offChain);
      for (int k = 0; k < STEPS; k++) {
        assertEquals(1.0, out.logProb[TrajectoryBatch.index(k, 0, 4)], "the late chunk's ln π "
            + "is the behaviour policy's (θ of batch 1)");
        assertEquals(2.0, out.logProb[TrajectoryBatch.index(k, 2, 4)]);
      }
      assertEquals(1, c.lateChunks());

      // The fast one's chunk of batch 2 is late for batch 3. The slow one is held, so batch 3
      // cannot close on its fresh chunk before the late one is in.
      slow.hold();
      fast.release();
      c.collect(new double[] {3}, null, STEPS, out);
      assertArrayEquals(new int[] {0, 0, 0, 0}, workerOfColumn(out));
      assertEquals(2.0, out.logProb[0], "batch 2's chunk, sampled under θ of batch 2");
      assertEquals(3.0, out.logProb[2], "then the fresh chunk, under θ of batch 3");
      assertTrue(out.offChain);
      assertEquals(2, c.lateChunks());
      slow.release();
    }
  }

  @Test
  void aLostWorkerLosesOnlyItsChunkAndIsReplacedWithNewLaneIds() {
    StandIn a = new StandIn(0, 2);
    StandIn b = new StandIn(1, 2);
    StandIn replacement = new StandIn(2, 2);
    List<String> replaced = new ArrayList<>();
    try (ParallelCollector c = new ParallelCollector(List.of(a, b), 1.0, (w, cause) -> {
      replaced.add(w + ": " + cause.getMessage());
      return replacement;
    })) {
      TrajectoryBatch out = new TrajectoryBatch(1, 1);
      c.collect(new double[] {1}, null, STEPS, out);
      b.loseNext = true;
      c.collect(new double[] {2}, null, STEPS, out);
      assertArrayEquals(new int[] {0, 0}, workerOfColumn(out), "worker 0's chunk is kept");
      assertEquals(1, c.workersLost());
      assertTrue(replaced.isEmpty(), "replaced at the next collect, not while the batch waits");

      c.collect(new double[] {3}, null, STEPS, out);
      assertEquals(List.of("1: UNAVAILABLE: stand-in 1 disconnected"), replaced);
      assertTrue(b.closed, "the lost worker's collector is closed");
      assertArrayEquals(new int[] {0, 0, 2, 2}, workerOfColumn(out));
      assertArrayEquals(new int[] {0, 1, 4, 5}, out.laneId, "new lanes, new ids");
      assertSame(replacement, c.collectors().get(1));
    }
  }

  @Test
  void everyWorkerLostIsReplacedBeforeTheBatchCloses() {
    StandIn a = new StandIn(0, 1);
    StandIn b = new StandIn(1, 1);
    List<StandIn> fresh = new ArrayList<>();
    try (ParallelCollector c = new ParallelCollector(List.of(a, b), 1.0, (w, cause) -> {
      StandIn s = new StandIn(10 + w, 1);
      fresh.add(s);
      return s;
    })) {
      a.loseNext = true;
      b.loseNext = true;
      TrajectoryBatch out = new TrajectoryBatch(1, 1);
      c.collect(new double[] {1}, null, STEPS, out);
      assertEquals(2, fresh.size());
      assertArrayEquals(new int[] {10, 11}, workerOfColumn(out));
      assertArrayEquals(new int[] {2, 3}, out.laneId);
    }
  }

  @Test
  void anyOtherFailureOfASubCollectReachesTheCaller() {
    StandIn a = new StandIn(0, 1);
    StandIn b = new StandIn(1, 1);
    b.failNext = new IllegalStateException("trajectory.policy_version: expected 3, got 2");
    try (ParallelCollector c = new ParallelCollector(List.of(a, b), 1.0, noReplacement())) {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> c.collect(new double[] {1}, null, STEPS, new TrajectoryBatch(1, 1)));
      assertEquals("trajectory.policy_version: expected 3, got 2", e.getMessage());
    }
  }

  @Test
  void aBadQuorumOrNoWorkersAreRefusedNamingTheField() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ParallelCollector(List.of(new StandIn(0, 1)), 0, noReplacement()));
    assertEquals("quorum: expected a fraction of the lanes, 0 < quorum <= 1, got 0.0",
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new ParallelCollector(List.of(), 1, noReplacement()));
    assertEquals("collectors: expected at least one, got none", e.getMessage());
  }

  /** Java CartPole lanes whose steps wait at a gate: a worker that is genuinely slow. */
  private static final class GatedLanes extends VectorEnvWrapper {
    final Semaphore gate = new Semaphore(0);

    GatedLanes(int lanes) {
      super(cartPoles(lanes));
    }

    private static VectorEnv cartPoles(int lanes) {
      List<Env> envs = new ArrayList<>();
      for (int i = 0; i < lanes; i++) {
        envs.add(new CartPole());
      }
      return new SyncVectorEnv(envs, AutoresetMode.SAME_STEP);
    }

    @Override
    public VectorStepResult step(Value actions) {
      gate.acquireUninterruptibly();
      return inner.step(actions);
    }
  }

  @Test
  void aRealSlowWorkersChunkCarriesTheBehaviourPolicysLogProbIntoTheNextBatch() {
    GatedLanes fastLanes = new GatedLanes(2);
    fastLanes.gate.release(Integer.MAX_VALUE / 2);
    GatedLanes slowLanes = new GatedLanes(2);
    Policy policy = Policies.forEnv(fastLanes.spec(), List.of(), PolicySpec.Activation.TANH, 0);
    ServerSideCollector fast = new ServerSideCollector(fastLanes,
        Policies.forEnv(fastLanes.spec(), List.of(), PolicySpec.Activation.TANH, 0),
        new SplittableRandom(1));
    ServerSideCollector slow = new ServerSideCollector(slowLanes,
        Policies.forEnv(slowLanes.spec(), List.of(), PolicySpec.Activation.TANH, 0),
        new SplittableRandom(2));
    fast.reset(0);
    slow.reset(2);
    double[] theta1 = policy.initialTheta(1);
    double[] theta2 = theta1.clone();
    for (int j = 0; j < theta2.length; j++) {
      theta2[j] += 0.5;
    }
    ObservationNormalizer normalizer = new ObservationNormalizer(4, true, 10);
    try (ParallelCollector c = new ParallelCollector(List.of(fast, slow), 0.5,
        noReplacement())) {
      TrajectoryBatch out = new TrajectoryBatch(4, 1);
      c.collect(theta1, normalizer, 8, out);
      assertArrayEquals(new int[] {0, 1}, out.laneId, "the slow worker's lanes are not in");
      assertFalse(out.offChain);
      ObservationNormalizer statsOfBatch1 = new ObservationNormalizer(4, true, 10);
      statsOfBatch1.set(normalizer.mean(), normalizer.var(), normalizer.count());
      normalizer.update(out.obs, out.size());  // the learner's statistics move on

      fastLanes.gate.drainPermits();  // the fast one waits now: the slow one closes batch 2
      slowLanes.gate.release(Integer.MAX_VALUE / 2);
      c.collect(theta2, normalizer, 8, out);
      fastLanes.gate.release(Integer.MAX_VALUE / 2);
      assertTrue(out.offChain, "a chunk sampled under θ1 is in the batch of θ2");
      assertArrayEquals(new int[] {2, 3, 2, 3}, out.laneId, "its late chunk, then its fresh "
          + "one");
      double[] z = new double[4];
      for (int k = 0; k < 8; k++) {
        for (int col = 0; col < 2; col++) {
          int i = TrajectoryBatch.index(k, col, out.numLanes);
          statsOfBatch1.normalize(out.obs, i * 4, z, 0);
          double behaviour = policy.logProb(theta1, z, 0, out.actions, i);
          assertEquals(behaviour, out.logProb[i], 1e-12, "ln π under θ1 and batch 1's "
              + "statistics, the denominator of the surrogate's ratio");
          normalizer.normalize(out.obs, i * 4, z, 0);
          assertNotEquals(policy.logProb(theta2, z, 0, out.actions, i), out.logProb[i]);
        }
      }
      assertEquals(1, c.lateChunks());
    }
  }
}
