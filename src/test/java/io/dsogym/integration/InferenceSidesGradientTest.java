package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.dso.Algorithm1;
import io.dsogym.collect.Collector;
import io.dsogym.collect.ServerSideCollector;
import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.remote.WorkerSideCollector;
import io.dsogym.remote.RemoteVectorEnv;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.PolicySpec;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The two inference paths record the same chain: Algorithm 1 gradients from batches collected
 * worker-side (numpy sampling in the Python worker) and server-side (Java sampling, a step per
 * round trip) on real Gymnasium CartPole workers agree within their standard errors.
 */
class InferenceSidesGradientTest {
  private static final int BATCHES = 40;
  private static final int LANES = 8;
  private static final int STEPS = 64;

  private LiveServer live;

  @AfterEach
  void stop() throws Exception {
    if (live != null) {
      live.close();
    }
  }

  /** Per-batch Algorithm 1 gradients (V̂ ≡ 0, Monte-Carlo returns, mean over transitions). */
  private static double[][] gradients(Collector collector, MlpPolicy policy, double[] theta,
      ObservationNormalizer norm) {
    Algorithm1.Options options = new Algorithm1.Options(Algorithm1.Setting.DISCOUNTED, 0.95,
        1.0, false);
    TrajectoryBatch b = new TrajectoryBatch(4, 1);
    double[][] out = new double[BATCHES][];
    double[] z = new double[4];
    for (int k = 0; k < BATCHES; k++) {
      collector.collect(theta, norm, STEPS, b);
      int n = b.size();
      double[] zero = new double[n];
      double[] w = new double[n];
      double[] targets = new double[n];
      Algorithm1.weights(b, zero, zero, options, 0.0, w, targets);
      double[] g = new double[policy.numParams()];
      for (int i = 0; i < n; i++) {
        norm.normalize(b.obs, i * 4, z, 0);
        policy.accumulateScore(theta, z, 0, b.actions, i, w[i] / n, g);
      }
      out[k] = g;
    }
    return out;
  }

  @Test
  void workerSideAndServerSideBatchesGiveTheSameGradientWithinStandardError() throws Exception {
    live = LiveServer.start();
    RemoteVectorEnv forWorker = live.launchAndAwait("CartPole-v1", LANES, null, "worker-side");
    RemoteVectorEnv forServer = live.launchAndAwait("CartPole-v1", LANES, null, "server-side");
    MlpPolicy policy = new MlpPolicy(new PolicySpec(PolicySpec.Head.CATEGORICAL, 4, List.of(),
        PolicySpec.Activation.TANH, 2), 0.0);
    // A policy that is neither uniform nor deterministic: the gradient is far from zero.
    double[] theta = {0.1, 0.3, -0.8, -0.4, -0.1, -0.3, 0.8, 0.4, 0.05, -0.05};
    ObservationNormalizer norm = new ObservationNormalizer(4, false, 10);
    double[][] worker;
    double[][] server;
    try (WorkerSideCollector w = new WorkerSideCollector(forWorker, policy, 11)) {
      w.reset(100);
      worker = gradients(w, policy, theta, norm);
    }
    try (ServerSideCollector s = new ServerSideCollector(forServer, policy,
        new SplittableRandom(12))) {
      s.reset(200);
      server = gradients(s, policy, theta, norm);
    }
    double worst = 0;
    double strongest = 0;
    for (int j = 0; j < theta.length; j++) {
      double[] mw = meanAndSe(worker, j);
      double[] ms = meanAndSe(server, j);
      double z = Math.abs(mw[0] - ms[0]) / Math.sqrt(mw[1] * mw[1] + ms[1] * ms[1]);
      worst = Math.max(worst, z);
      // 10 components: |z| < 4 fails by chance with probability ~6e-4 for independent ones.
      assertTrue(z < 4, "component " + j + ": worker " + mw[0] + " ± " + mw[1] + ", server "
          + ms[0] + " ± " + ms[1] + " (z = " + z + ")");
      strongest = Math.max(strongest, Math.min(Math.abs(mw[0]) / mw[1],
          Math.abs(ms[0]) / ms[1]));
    }
    // The comparison has power: some component is many standard errors away from zero on
    // both sides, so a misaligned chain (wrong x, action or x') would show.
    assertTrue(strongest > 5, "largest |mean|/SE on both sides: " + strongest);
    System.out.printf("[inference-sides] worst |z| over %d components: %.2f; largest "
        + "|mean|/SE: %.1f%n", theta.length, worst, strongest);
  }

  /** Mean over batches of component j and its standard error. */
  private static double[] meanAndSe(double[][] g, int j) {
    double m = 0;
    for (double[] row : g) {
      m += row[j] / g.length;
    }
    double v = 0;
    for (double[] row : g) {
      v += (row[j] - m) * (row[j] - m) / (g.length - 1);
    }
    return new double[] {m, Math.sqrt(v / g.length)};
  }
}
