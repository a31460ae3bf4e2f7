package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.remote.WorkerSideCollector;
import io.dsogym.env.AutoresetMode;
import io.dsogym.remote.RemoteVectorEnv;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policy;
import io.dsogym.policy.PolicySpec;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.server.ServerOptions;
import io.dsogym.wire.PolicyCodec;
import io.dsogym.wire.RemoteEnvException;
import io.dsogym.env.EnvUnavailableException;
import io.dsogym.wire.v1.CollectRequest;
import io.dsogym.wire.v1.PolicyParams;
import io.grpc.Status;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Worker-side inference against real Python workers: the batch rebuilt from the worker's
 * trajectory chunks is a consistent chain (x' continuity within and across chunks, final
 * observations where episodes ended, episode steps, ln pi equal to the Java policy's), the
 * policy is sent only when it changed, errors come back clearly and leave the worker usable,
 * and a worker that dies mid-collect fails the collect fast.
 */
class WorkerSideCollectorTest {
  private LiveServer live;

  @AfterEach
  void stop() throws Exception {
    if (live != null) {
      live.close();
    }
  }

  private static PolicySpec linearCategorical(int obsDim, int n) {
    return new PolicySpec(PolicySpec.Head.CATEGORICAL, obsDim, List.of(),
        PolicySpec.Activation.TANH, n);
  }

  private static ObservationNormalizer normalizer(int dim, double scale) {
    ObservationNormalizer norm = new ObservationNormalizer(dim, true, 5.0);
    double[] mean = new double[dim];
    double[] var = new double[dim];
    for (int j = 0; j < dim; j++) {
      mean[j] = 0.01 * j;
      var[j] = scale * (j + 1);
    }
    norm.set(mean, var, 1000);
    return norm;
  }

  @Test
  void cartPoleChunksRebuildAConsistentChainWithJavaLogProbs() throws Exception {
    live = LiveServer.start();
    int lanes = 4;
    int k = 200;  // three requests of 67, 67 and 66 steps: the chain must run across them
    RemoteVectorEnv env = live.launchAndAwait("CartPole-v1", lanes, null, "collector");
    assertTrue(env.supportsWorkerInference(), "capabilities " + env.info().capabilities());
    Policy policy = new MlpPolicy(linearCategorical(4, 2), 0.0);
    double[] theta = policy.initialTheta(3);
    ObservationNormalizer norm = normalizer(4, 0.5);
    try (WorkerSideCollector collector = new WorkerSideCollector(env, policy, 17)) {
      collector.setRequestsPerCollect(3);
      collector.reset(5);
      TrajectoryBatch first = new TrajectoryBatch(4, 1);
      TrajectoryBatch second = new TrajectoryBatch(4, 1);
      collector.collect(theta, norm, k, first);
      assertEquals(66, collector.lastTrajectory().stepsPerLane(), "the last of three parts");
      double[] firstLastNext = Arrays.copyOfRange(first.nextObs, (k - 1) * lanes * 4,
          k * lanes * 4);
      boolean[] firstLastEnded = new boolean[lanes];
      int[] firstLastStep = new int[lanes];
      for (int lane = 0; lane < lanes; lane++) {
        int i = TrajectoryBatch.index(k - 1, lane, lanes);
        firstLastEnded[lane] = first.ended(i);
        firstLastStep[lane] = first.episodeStep[i];
      }
      checkChain(first, policy, theta, norm, true);
      collector.collect(theta, norm, k, second);
      checkChain(second, policy, theta, norm, false);
      assertEquals(1, collector.policySends(), "an unchanged policy is sent once");

      // Across chunks: x' of the last step of a lane that did not end is the next chunk's x.
      for (int lane = 0; lane < lanes; lane++) {
        if (!firstLastEnded[lane]) {
          assertArrayEquals(Arrays.copyOfRange(firstLastNext, lane * 4, lane * 4 + 4),
              Arrays.copyOfRange(second.obs, lane * 4, lane * 4 + 4), "lane " + lane);
          assertEquals(firstLastStep[lane] + 1, second.episodeStep[lane], "lane " + lane);
        } else {
          assertEquals(0, second.episodeStep[lane], "lane " + lane + " starts a new episode");
        }
      }

      // A new theta, then new normalizer statistics, are each sent once.
      theta[0] += 0.5;
      collector.collect(theta, norm, 8, second);
      assertEquals(2, collector.policySends());
      checkLogProbs(second, policy, theta, norm);
      norm.update(Arrays.copyOf(first.obs, 40 * 4), 40);
      collector.collect(theta, norm, 8, second);
      collector.collect(theta, norm, 8, second);
      assertEquals(3, collector.policySends());
      checkLogProbs(second, policy, theta, norm);
      assertEquals(3, collector.lastTrajectory().policyVersion());
    }
  }

  /** The chain's invariants within one batch; {@code fromReset}: the batch starts episodes. */
  @Test
  void collectAheadReturnsTheChunkSampledUnderThePreviousThetaAndKeepsTheChainWhole()
      throws Exception {
    live = LiveServer.start();
    int lanes = 3;
    int k = 40;
    RemoteVectorEnv env = live.launchAndAwait("CartPole-v1", lanes, null, "ahead");
    Policy policy = new MlpPolicy(linearCategorical(4, 2), 0.0);
    double[] theta0 = policy.initialTheta(3);
    double[] theta1 = theta0.clone();
    theta1[0] += 0.8;
    ObservationNormalizer norm0 = normalizer(4, 0.5);
    ObservationNormalizer norm1 = normalizer(4, 2.0);
    try (WorkerSideCollector collector = new WorkerSideCollector(env, policy, 17)) {
      collector.setCollectAhead(true);
      collector.reset(5);
      TrajectoryBatch first = new TrajectoryBatch(4, 1);
      TrajectoryBatch second = new TrajectoryBatch(4, 1);
      collector.collect(theta0, norm0, k, first);
      assertFalse(first.offChain, "the first chunk is sampled under the theta it was asked for");
      checkChain(first, policy, theta0, norm0, true);
      assertEquals(1, env.submittedCollects(), "the next chunk is already running");
      assertThrows(IllegalStateException.class, () -> env.reset(new long[] {1}),
          "the lanes belong to the submitted collect");

      // theta and the statistics change: the chunk returned now was submitted with theta0
      collector.collect(theta1, norm1, k, second);
      assertTrue(second.offChain, "sampled under the previous theta");
      checkLogProbs(second, policy, theta0, norm0);  // ln pi is the behaviour policy's
      boolean differs = false;
      double[] z = new double[4];
      for (int i = 0; i < second.size(); i++) {
        norm1.normalize(second.obs, i * 4, z, 0);
        differs |= policy.logProb(theta1, z, 0, second.actions, i) != second.logProb[i];
      }
      assertTrue(differs, "ln pi under the new policy would differ");
      // the chain runs on across the two chunks: nothing was skipped between them
      for (int lane = 0; lane < lanes; lane++) {
        int last = TrajectoryBatch.index(k - 1, lane, lanes);
        if (!first.ended(last)) {
          assertArrayEquals(Arrays.copyOfRange(first.nextObs, last * 4, last * 4 + 4),
              Arrays.copyOfRange(second.obs, lane * 4, lane * 4 + 4), "lane " + lane);
          assertEquals(first.episodeStep[last] + 1, second.episodeStep[lane]);
        }
      }
      assertEquals(2, collector.policySends());

      // the third chunk was submitted with theta1; the policy did not change since
      collector.collect(theta1, norm1, k, second);
      assertFalse(second.offChain, "sampled under the theta it was asked for");
      checkLogProbs(second, policy, theta1, norm1);
      assertEquals(2, collector.policySends(), "an unchanged policy is not resent");

      // emptying the pipeline returns the running chunk, on-chain (theta unchanged), and the
      // chain goes on into it; then there is nothing left to wait for
      double[] before = Arrays.copyOfRange(second.nextObs, (k - 1) * lanes * 4, k * lanes * 4);
      boolean[] endedBefore = new boolean[lanes];
      for (int lane = 0; lane < lanes; lane++) {
        endedBefore[lane] = second.ended(TrajectoryBatch.index(k - 1, lane, lanes));
      }
      assertTrue(collector.awaitSubmitted(second));
      assertFalse(second.offChain);
      checkLogProbs(second, policy, theta1, norm1);
      for (int lane = 0; lane < lanes; lane++) {
        if (!endedBefore[lane]) {
          assertArrayEquals(Arrays.copyOfRange(before, lane * 4, lane * 4 + 4),
              Arrays.copyOfRange(second.obs, lane * 4, lane * 4 + 4), "lane " + lane);
        }
      }
      assertEquals(0, env.submittedCollects());
      assertFalse(collector.awaitSubmitted(second), "nothing submitted");
      collector.collect(theta1, norm1, k, second);  // restarts the pipeline, on-chain
      assertFalse(second.offChain);
      assertEquals(1, env.submittedCollects());

      // turning it off drops the running chunk; the next collect is on-chain and synchronous
      collector.setCollectAhead(false);
      assertEquals(0, env.submittedCollects());
      collector.collect(theta0, norm0, k, second);
      assertFalse(second.offChain);
      checkLogProbs(second, policy, theta0, norm0);
      assertEquals(0, env.submittedCollects());

      // the env's own limits: nothing to await; at most two outstanding
      IllegalStateException none = assertThrows(IllegalStateException.class, env::awaitCollect);
      assertTrue(none.getMessage().contains("no collect was submitted"), none.getMessage());
      CollectRequest more = CollectRequest.newBuilder().setStepsPerLane(4).build();
      env.submitCollect(more);
      env.submitCollect(more);
      IllegalStateException third = assertThrows(IllegalStateException.class,
          () -> env.submitCollect(more));
      assertTrue(third.getMessage().contains("expected at most 2"), third.getMessage());
      assertEquals(4, env.awaitCollect().stepsPerLane());
      assertEquals(4, env.awaitCollect().stepsPerLane());
      assertEquals(0, env.submittedCollects());
    }
  }

  private static void checkChain(TrajectoryBatch b, Policy policy, double[] theta,
      ObservationNormalizer norm, boolean fromReset) {
    int n = b.numLanes;
    int d = b.obsDim;
    assertEquals(n * b.stepsPerLane, b.size());
    int endings = 0;
    for (int i = 0; i < b.size(); i++) {
      int lane = i % n;
      int k = i / n;
      assertEquals(-1.0, b.cost[i], "CartPole's reward is 1 a step: cost -1");
      assertTrue(b.actions[i] == 0.0 || b.actions[i] == 1.0, "action index " + b.actions[i]);
      assertFalse(b.truncated[i], "no 500-step episode under this policy");
      if (fromReset && k == 0) {
        assertEquals(0, b.episodeStep[i], "the first step after reset");
      }
      double[] next = Arrays.copyOfRange(b.nextObs, i * d, i * d + d);
      if (b.ended(i)) {
        endings++;
        // CartPole ends when the cart or the pole leaves its bounds: the final observation
        assertTrue(Math.abs(next[0]) > 2.4 || Math.abs(next[2]) > 0.2094,
            "final observation outside the bounds: " + Arrays.toString(next));
        if (k + 1 < b.stepsPerLane) {
          assertEquals(0, b.episodeStep[i + n], "lane " + lane + " restarts after step " + k);
          double[] reset = Arrays.copyOfRange(b.obs, (i + n) * d, (i + n) * d + d);
          for (double v : reset) {
            assertTrue(Math.abs(v) <= 0.0501, "a reset observation: " + Arrays.toString(reset));
          }
        }
      } else if (k + 1 < b.stepsPerLane) {
        assertArrayEquals(Arrays.copyOfRange(b.obs, (i + n) * d, (i + n) * d + d), next,
            "x' of step " + k + " lane " + lane + " is x of the next step");
        assertEquals(b.episodeStep[i] + 1, b.episodeStep[i + n]);
      }
    }
    assertTrue(endings > 0, "episodes end within " + b.stepsPerLane + " steps");
    checkLogProbs(b, policy, theta, norm);
  }

  private static void checkLogProbs(TrajectoryBatch b, Policy policy, double[] theta,
      ObservationNormalizer norm) {
    double[] z = new double[b.obsDim];
    for (int i = 0; i < b.size(); i++) {
      assertTrue(Double.isFinite(b.logProb[i]) && b.logProb[i] <= 0, "ln pi " + b.logProb[i]);
      norm.normalize(b.obs, i * b.obsDim, z, 0);
      assertEquals(policy.logProb(theta, z, 0, b.actions, i * b.actionDim), b.logProb[i], 0.0);
    }
  }

  @Test
  void gaussianActionsAreRecordedUnclippedAndScoredAsSampled() throws Exception {
    live = LiveServer.start();
    RemoteVectorEnv env = live.launchAndAwait("Pendulum-v1", 3, null, "pendulum");
    PolicySpec spec = new PolicySpec(PolicySpec.Head.GAUSSIAN, 3, List.of(16),
        PolicySpec.Activation.RELU, 1);
    Policy policy = new MlpPolicy(spec, 0.0);
    double[] theta = policy.initialTheta(1);
    theta[theta.length - 1] = Math.log(3.0);  // std 3 against bounds of +-2
    try (WorkerSideCollector collector = new WorkerSideCollector(env, policy, 2)) {
      collector.reset(0);
      TrajectoryBatch b = new TrajectoryBatch(3, 1);
      collector.collect(theta, null, 100, b);
      double max = 0;
      for (int i = 0; i < b.size(); i++) {
        max = Math.max(max, Math.abs(b.actions[i]));
        assertEquals(policy.logProb(theta, b.obs, i * 3, b.actions, i), b.logProb[i], 0.0);
        assertTrue(b.cost[i] >= 0, "Pendulum's reward is <= 0");
      }
      assertTrue(max > 2.0, "some samples beyond the bounds are recorded as sampled: " + max);
      assertEquals(300, b.size());
    }
  }

  @Test
  void errorsAreClearAndLeaveTheWorkerUsable() throws Exception {
    live = LiveServer.start();
    RemoteVectorEnv env = live.launchAndAwait("CartPole-v1", 2, null, "errors");
    Policy policy = new MlpPolicy(linearCategorical(4, 2), 0.0);
    double[] theta = policy.initialTheta(0);
    TrajectoryBatch b = new TrajectoryBatch(4, 1);
    IllegalArgumentException obsMismatch = assertThrows(IllegalArgumentException.class,
        () -> new WorkerSideCollector(env, new MlpPolicy(linearCategorical(5, 2), 0.0), 0));
    assertTrue(obsMismatch.getMessage().contains("observation space: expected a Box of 5 "
        + "elements (the policy's obsDim)"), obsMismatch.getMessage());
    IllegalArgumentException headMismatch = assertThrows(IllegalArgumentException.class,
        () -> new WorkerSideCollector(env, new MlpPolicy(new PolicySpec(
            PolicySpec.Head.GAUSSIAN, 4, List.of(), PolicySpec.Activation.TANH, 2), 0.0), 0));
    assertTrue(headMismatch.getMessage().contains("action space: expected a Box of 2 elements "
        + "for the policy's GAUSSIAN head"), headMismatch.getMessage());
    try (WorkerSideCollector collector = new WorkerSideCollector(env, policy, 0)) {
      IllegalStateException early = assertThrows(IllegalStateException.class,
          () -> collector.collect(theta, null, 4, b));
      assertTrue(early.getMessage().contains("collect before reset"), early.getMessage());
      IllegalStateException raw = assertThrows(IllegalStateException.class,
          () -> env.collect(CollectRequest.newBuilder().setStepsPerLane(4).build()));
      assertTrue(raw.getMessage().contains("collect called before reset (lane 0"),
          raw.getMessage());
      collector.reset(1);

      IllegalArgumentException badK = assertThrows(IllegalArgumentException.class,
          () -> collector.collect(theta, null, 0, b));
      assertTrue(badK.getMessage().contains("steps_per_lane: expected >= 1, got 0"),
          badK.getMessage());
      IllegalArgumentException badTheta = assertThrows(IllegalArgumentException.class,
          () -> collector.collect(new double[3], null, 4, b));
      assertTrue(badTheta.getMessage().contains("theta: expected 10 values"),
          badTheta.getMessage());

      // What the worker itself refuses, in-band: a theta of the wrong length, a policy that
      // does not fit the env, a collect too large for one message.
      PolicyParams good = PolicyCodec.encode(policy.spec(), theta, null, 9);
      PolicyParams shortTheta = PolicyCodec.encode(
          new PolicySpec(PolicySpec.Head.CATEGORICAL, 3, List.of(), PolicySpec.Activation.TANH, 2),
          new double[8], null, 9).toBuilder().setObsDim(4).build();
      expectRefused(env, CollectRequest.newBuilder().setStepsPerLane(4).setPolicy(shortTheta),
          "collect.policy.theta: expected 10 values");
      expectRefused(env, CollectRequest.newBuilder().setStepsPerLane(4)
          .setPolicy(good.toBuilder().setOutputs(3)), "collect.policy.outputs: expected 2");
      expectRefused(env, CollectRequest.newBuilder().setStepsPerLane(4)
          .setPolicy(good.toBuilder().setHead(PolicyParams.Head.GAUSSIAN)),
          "collect.policy.head: expected CATEGORICAL");
      expectRefused(env, CollectRequest.newBuilder().setStepsPerLane(100_000_000)
          .setPolicy(good), "collect.steps_per_lane: expected at most");
      RemoteEnvException noPolicy = assertThrows(RemoteEnvException.class,
          () -> env.collect(CollectRequest.newBuilder().setStepsPerLane(4).build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, noPolicy.code(), noPolicy.toString());
      assertTrue(noPolicy.getMessage().contains("collect.policy: expected a policy"),
          noPolicy.getMessage());

      // Still usable: a good collect, and plain steps in between.
      collector.collect(theta, null, 16, b);
      assertEquals(32, b.size());
      assertTrue(env.isAlive());
      env.step(io.dsogym.env.Tensor.ofInt64(new int[] {2}, new long[] {0, 1}));
      collector.collect(theta, null, 16, b);
      assertEquals(1, collector.policySends());
    }
  }

  private static void expectRefused(RemoteVectorEnv env, CollectRequest.Builder request,
      String message) {
    RemoteEnvException e = assertThrows(RemoteEnvException.class,
        () -> env.collect(request.build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.code(), e.toString());
    assertTrue(e.getMessage().contains(message), e.getMessage());
    assertTrue(env.isAlive(), "the worker survives a refused collect");
  }

  @Test
  void onlySameStepWorkersWithTheCapabilityCollect() throws Exception {
    live = LiveServer.start(ServerOptions.defaults()
        .withWorkerAutoresetMode(AutoresetMode.NEXT_STEP));
    RemoteVectorEnv env = live.launchAndAwait("CartPole-v1", 2, null, "next-step");
    Policy policy = new MlpPolicy(linearCategorical(4, 2), 0.0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new WorkerSideCollector(env, policy, 0));
    assertTrue(e.getMessage().contains("expected SAME_STEP"), e.getMessage());
    env.reset(new long[] {0});
    IllegalStateException raw = assertThrows(IllegalStateException.class,
        () -> env.collect(CollectRequest.newBuilder().setStepsPerLane(4)
            .setPolicy(PolicyCodec.encode(policy.spec(), policy.initialTheta(0), null, 1))
            .build()));
    assertTrue(raw.getMessage().contains("collect needs autoreset mode SAME_STEP")
        && raw.getMessage().endsWith("got NEXT_STEP"),
        raw.getMessage());
    env.step(io.dsogym.env.Tensor.ofInt64(new int[] {2}, new long[] {0, 1}));  // still usable
  }

  @Test
  void aWorkerKilledMidCollectFailsTheCollectFast() throws Exception {
    live = LiveServer.start("dsogym.testing_envs");
    // the env stalls 60 s in its 3rd step: the collect is in flight at the kill
    Process process = live.launch("dsogym.testing_envs:Faulty-v0", 2,
        "{\"stall_at_step\": 3, \"stall_seconds\": 60}", "victim");
    RemoteVectorEnv env = live.await("Faulty-v0", process);
    Policy policy = new MlpPolicy(linearCategorical(1, 2), 0.0);
    double[] theta = policy.initialTheta(0);
    WorkerSideCollector collector = new WorkerSideCollector(env, policy, 0);
    collector.reset(0);
    TrajectoryBatch b = new TrajectoryBatch(1, 1);
    collector.collect(theta, null, 2, b);
    CompletableFuture<Void> pending = CompletableFuture.runAsync(
        () -> collector.collect(theta, null, 5, b));
    Thread.sleep(500);
    assertFalse(pending.isDone(), "the stalled collect is in flight");
    long killedAt = System.nanoTime();
    process.destroyForcibly();
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> pending.get(10, TimeUnit.SECONDS));
    assertInstanceOf(EnvUnavailableException.class, e.getCause());
    assertTrue(e.getCause().getMessage().contains("collect"), e.getCause().getMessage());
    assertTrue(System.nanoTime() - killedAt < TimeUnit.SECONDS.toNanos(10));
    assertThrows(EnvUnavailableException.class, () -> collector.collect(theta, null, 2, b));
    collector.close();
  }
}
