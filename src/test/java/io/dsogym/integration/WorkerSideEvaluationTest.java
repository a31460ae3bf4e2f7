package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policy;
import io.dsogym.policy.PolicySpec;
import io.dsogym.remote.RemoteVectorEnv;
import io.dsogym.train.Evaluator;
import io.dsogym.train.WorkerSideEvaluationSteps;
import io.dsogym.wire.v1.CollectRequest;
import java.io.File;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Evaluations on a real Python worker that computes the deterministic action itself (K steps
 * per request) give the returns the server-side evaluation gives on the same lanes, θ,
 * statistics and seed; a worker without the capability gets the server-side evaluation.
 */
class WorkerSideEvaluationTest {
  private LiveServer live;
  private Process oldWorker;

  @AfterEach
  void stop() throws Exception {
    if (oldWorker != null) {
      oldWorker.destroyForcibly().waitFor();
    }
    if (live != null) {
      live.close();
    }
  }

  private static ObservationNormalizer normalizer(int dim, boolean enabled) {
    ObservationNormalizer norm = new ObservationNormalizer(dim, enabled, 5.0);
    double[] mean = new double[dim];
    double[] var = new double[dim];
    for (int j = 0; j < dim; j++) {
      mean[j] = 0.02 * j;
      var[j] = 0.3 * (j + 1);
    }
    norm.set(mean, var, 1000);
    return norm;
  }

  @Test
  void cartPoleReturnsEqualTheServerSideEvaluationExactly() throws Exception {
    live = LiveServer.start();
    RemoteVectorEnv env = live.launchAndAwait("CartPole-v1", 4, null, "eval");
    Policy mlp = new MlpPolicy(new PolicySpec(PolicySpec.Head.CATEGORICAL, 4, List.of(16),
        PolicySpec.Activation.TANH, 2), 0.0);
    Policy linear = new MlpPolicy(new PolicySpec(PolicySpec.Head.CATEGORICAL, 4, List.of(),
        PolicySpec.Activation.TANH, 2), 0.0);
    assertInstanceOf(WorkerSideEvaluationSteps.class, Evaluator.stepsFor(env, mlp, true));
    assertInstanceOf(Evaluator.ServerSideSteps.class, Evaluator.stepsFor(env, mlp, false),
        "--inference server evaluates server-side too");
    // push right when the pole leans or turns right: episodes of hundreds of steps, up to the
    // 500-step truncation, so they span several requests of 64 steps
    double[] balancing = {0, 0, 0, 0, 0.1, 0.5, 10, 2, 0, 0};
    double[] random = mlp.initialTheta(3);
    // 10 episodes on 4 lanes: quotas 3, 3, 2, 2, so lanes run on past their quota; each θ is
    // sent anew, and evaluated at two seeds, with and without normalization
    for (Object[] c : new Object[][] {{linear, balancing}, {mlp, random}}) {
      Policy policy = (Policy) c[0];
      double[] theta = (double[]) c[1];
      Evaluator.Steps worker = Evaluator.stepsFor(env, policy, true);
      for (long seed : new long[] {7, 8}) {
        ObservationNormalizer norm = normalizer(4, seed == 7);
        long t0 = System.nanoTime();
        double[] serverSide = Evaluator.evaluate(env, policy, theta, norm, 10, seed);
        long t1 = System.nanoTime();
        double[] workerSide = Evaluator.evaluate(worker, 4, theta, norm, 10, seed);
        long t2 = System.nanoTime();
        assertArrayEquals(serverSide, workerSide, 0.0, policy.spec() + ", seed " + seed);
        // for the record only (never asserted): the wall time of each side
        System.out.printf("[cartpole eval] %s seed %d: returns %s; server-side %.0f ms, "
                + "worker-side %.0f ms%n", policy.spec().hidden(), seed,
            Arrays.toString(workerSide), (t1 - t0) / 1e6, (t2 - t1) / 1e6);
      }
    }
    double[] longOnes = Evaluator.evaluate(Evaluator.stepsFor(env, linear, true), 4, balancing,
        normalizer(4, false), 10, 7);
    assertTrue(Arrays.stream(longOnes).min().orElseThrow() > 64,
        "every episode should span requests: " + Arrays.toString(longOnes));
  }

  /**
   * The Gaussian mean comes from numpy's and Java's own sums, equal to about 1e-16; the env
   * gets it as a float32, so the actions are almost always the same bits and the returns
   * equal. A mean on a float32 rounding boundary would differ by one float32 ulp (about 1e-7
   * of a torque within [-2, 2]); such a step moves the trajectory by that order and the
   * 200-step return (about -1000 here) by far less than 1e-3, the tolerance.
   */
  @Test
  void pendulumReturnsEqualTheServerSideEvaluationWithinRounding() throws Exception {
    live = LiveServer.start();
    RemoteVectorEnv env = live.launchAndAwait("Pendulum-v1", 3, null, "eval");
    Policy policy = new MlpPolicy(new PolicySpec(PolicySpec.Head.GAUSSIAN, 3, List.of(8, 8),
        PolicySpec.Activation.TANH, 1), 0.0);
    double[] theta = policy.initialTheta(5);
    for (int j = 0; j < theta.length; j++) {
      theta[j] *= 3;  // means beyond the bounds too: clipped for the env on both sides
    }
    Evaluator.Steps worker = Evaluator.stepsFor(env, policy, true);
    assertInstanceOf(WorkerSideEvaluationSteps.class, worker);
    for (boolean normalized : new boolean[] {true, false}) {
      ObservationNormalizer norm = normalizer(3, normalized);
      double[] serverSide = Evaluator.evaluate(env, policy, theta, norm, 5, 11);
      double[] workerSide = Evaluator.evaluate(worker, 3, theta, norm, 5, 11);
      assertEquals(5, workerSide.length);
      assertArrayEquals(serverSide, workerSide, 1e-3, "normalized " + normalized);
      double maxDiff = 0;
      for (int e = 0; e < 5; e++) {
        maxDiff = Math.max(maxDiff, Math.abs(serverSide[e] - workerSide[e]));
      }
      System.out.printf("[pendulum eval] normalized %s: returns %s, max |diff| %.3g%n",
          normalized, Arrays.toString(serverSide), maxDiff);
    }
  }

  @Test
  void aWorkerWithoutTheCapabilityIsEvaluatedServerSide() throws Exception {
    live = LiveServer.start();
    // an older dsogym worker: this one's hello leaves out deterministic_collect
    oldWorker = new ProcessBuilder(LiveServer.requirePython(), "-c",
        "import sys, dsogym.worker as w; "
            + "w.CAPABILITIES = tuple(c for c in w.CAPABILITIES if c != 'deterministic_collect'); "
            + "sys.exit(w.main(sys.argv[1:]))",
        "--server", live.address(), "--env", "CartPole-v1", "--num-envs", "3")
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .redirectInput(new File("/dev/null")).start();
    RemoteVectorEnv env = live.await("CartPole-v1", oldWorker);
    assertTrue(env.supportsWorkerInference());
    assertFalse(env.supportsDeterministicCollect(), "capabilities " + env.info().capabilities());
    Policy policy = new MlpPolicy(new PolicySpec(PolicySpec.Head.CATEGORICAL, 4, List.of(),
        PolicySpec.Activation.TANH, 2), 0.0);
    assertInstanceOf(Evaluator.ServerSideSteps.class, Evaluator.stepsFor(env, policy, true));
    double[] theta = policy.initialTheta(1);
    ObservationNormalizer norm = normalizer(4, false);
    assertEquals(4, Evaluator.evaluate(Evaluator.stepsFor(env, policy, true), 4, theta, norm,
        4, 3).length);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new WorkerSideEvaluationSteps(env, policy.spec()));
    assertTrue(e.getMessage().contains("deterministic_collect"), e.getMessage());
    // it would ignore the field and sample: the request is refused before it is sent
    e = assertThrows(IllegalArgumentException.class, () -> env.collect(CollectRequest
        .newBuilder().setStepsPerLane(5).setDeterministic(true).build()));
    assertTrue(e.getMessage().startsWith("deterministic: needs a worker with the capability "
        + "deterministic_collect"), e.getMessage());
  }
}
