package io.dsogym.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.DType;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.Space;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The policy families: analytic scores against finite differences, sampling, no allocation. */
class MlpPolicyTest {
  static Stream<Arguments> families() {
    return Stream.of(
        Arguments.of(PolicySpec.Head.CATEGORICAL, List.of(), PolicySpec.Activation.TANH),
        Arguments.of(PolicySpec.Head.CATEGORICAL, List.of(8, 6), PolicySpec.Activation.TANH),
        Arguments.of(PolicySpec.Head.CATEGORICAL, List.of(8, 6), PolicySpec.Activation.RELU),
        Arguments.of(PolicySpec.Head.GAUSSIAN, List.of(), PolicySpec.Activation.TANH),
        Arguments.of(PolicySpec.Head.GAUSSIAN, List.of(8, 6), PolicySpec.Activation.TANH),
        Arguments.of(PolicySpec.Head.GAUSSIAN, List.of(8, 6), PolicySpec.Activation.RELU));
  }

  private static MlpPolicy policy(PolicySpec.Head head, List<Integer> hidden,
      PolicySpec.Activation act) {
    return new MlpPolicy(new PolicySpec(head, 5, hidden, act, 3), -0.3);
  }

  /** Random theta of order 1, so the output layer is not the near-zero initial one. */
  private static double[] randomTheta(MlpPolicy p, SplittableRandom rng) {
    double[] theta = new double[p.numParams()];
    for (int i = 0; i < theta.length; i++) {
      theta[i] = rng.nextDouble(-0.8, 0.8);
    }
    return theta;
  }

  @ParameterizedTest(name = "{0} hidden={1} {2}")
  @MethodSource("families")
  void scoreMatchesCentralFiniteDifferencesOfLogProb(PolicySpec.Head head, List<Integer> hidden,
      PolicySpec.Activation act) {
    MlpPolicy p = policy(head, hidden, act);
    SplittableRandom rng = new SplittableRandom(7);
    for (int trial = 0; trial < 5; trial++) {
      double[] theta = randomTheta(p, rng);
      double[] x = new double[5];
      for (int j = 0; j < 5; j++) {
        x[j] = rng.nextDouble(-2, 2);
      }
      double[] a = new double[p.actionDim()];
      p.sample(theta, x, 0, rng, a, 0);
      double[] grad = new double[p.numParams()];
      p.accumulateScore(theta, x, 0, a, 0, 1.0, grad);
      double h = 1e-6;
      for (int i = 0; i < theta.length; i++) {
        double keep = theta[i];
        theta[i] = keep + h;
        double up = p.logProb(theta, x, 0, a, 0);
        theta[i] = keep - h;
        double down = p.logProb(theta, x, 0, a, 0);
        theta[i] = keep;
        double fd = (up - down) / (2 * h);
        // Central differences err by O(h^2 f''') ~ 1e-12 plus rounding ~ eps*|f|/h ~ 1e-10;
        // a relu kink within h of a pre-activation would break this, which random inputs of
        // order 1 make improbable (probability ~ 1e-6 per unit).
        assertEquals(fd, grad[i], 1e-6 * Math.max(1, Math.abs(fd)),
            "d ln pi / d theta[" + i + "]");
      }
    }
  }

  @ParameterizedTest(name = "{0} hidden={1} {2}")
  @MethodSource("families")
  void sampleReturnsTheLogProbOfTheActionItDrew(PolicySpec.Head head, List<Integer> hidden,
      PolicySpec.Activation act) {
    MlpPolicy p = policy(head, hidden, act);
    SplittableRandom rng = new SplittableRandom(3);
    double[] theta = randomTheta(p, rng);
    double[] x = {0.1, -0.2, 0.3, 1.0, -1.5};
    double[] a = new double[p.actionDim()];
    for (int k = 0; k < 20; k++) {
      double logp = p.sample(theta, x, 0, rng, a, 0);
      assertEquals(p.logProb(theta, x, 0, a, 0), logp, 1e-12);
    }
  }

  @Test
  void categoricalSamplesFollowTheSoftmaxAndModeIsTheArgmax() {
    MlpPolicy p = policy(PolicySpec.Head.CATEGORICAL, List.of(4), PolicySpec.Activation.TANH);
    SplittableRandom rng = new SplittableRandom(11);
    double[] theta = randomTheta(p, rng);
    double[] x = {0.5, -0.5, 1.0, 0.0, 2.0};
    double[] logits = new double[3];
    p.distributionParams(theta, x, 0, logits);
    double z = 0;
    for (double l : logits) {
      z += Math.exp(l);
    }
    int n = 200_000;
    int[] counts = new int[3];
    double[] a = new double[1];
    for (int i = 0; i < n; i++) {
      p.sample(theta, x, 0, rng, a, 0);
      counts[(int) a[0]]++;
    }
    int argmax = 0;
    for (int k = 0; k < 3; k++) {
      double prob = Math.exp(logits[k]) / z;
      double se = Math.sqrt(prob * (1 - prob) / n);
      assertEquals(prob, counts[k] / (double) n, 5 * se, "frequency of action " + k);
      if (logits[k] > logits[argmax]) {
        argmax = k;
      }
    }
    p.mode(theta, x, 0, a, 0);
    assertEquals(argmax, (int) a[0]);
  }

  @Test
  void gaussianSamplesHaveTheMeanAndStdOfTheHeadAndModeIsTheMean() {
    MlpPolicy p = policy(PolicySpec.Head.GAUSSIAN, List.of(4), PolicySpec.Activation.TANH);
    SplittableRandom rng = new SplittableRandom(5);
    double[] theta = randomTheta(p, rng);
    double[] x = {0.5, -0.5, 1.0, 0.0, 2.0};
    double[] params = new double[6];
    p.distributionParams(theta, x, 0, params);
    int n = 100_000;
    double[] sum = new double[3];
    double[] sq = new double[3];
    double[] a = new double[3];
    for (int i = 0; i < n; i++) {
      p.sample(theta, x, 0, rng, a, 0);
      for (int j = 0; j < 3; j++) {
        sum[j] += a[j];
        sq[j] += a[j] * a[j];
      }
    }
    for (int j = 0; j < 3; j++) {
      double std = Math.exp(params[3 + j]);
      double mean = sum[j] / n;
      assertEquals(params[j], mean, 5 * std / Math.sqrt(n), "mean of dimension " + j);
      double sampleStd = Math.sqrt(sq[j] / n - mean * mean);
      // The sample std's standard error is about std / sqrt(2n).
      assertEquals(std, sampleStd, 5 * std / Math.sqrt(2.0 * n), "std of dimension " + j);
    }
    p.mode(theta, x, 0, a, 0);
    assertEquals(params[0], a[0], 0.0);
  }

  @Test
  void scoringAndSamplingDoNotAllocate() {
    MlpPolicy p = policy(PolicySpec.Head.GAUSSIAN, List.of(64, 64), PolicySpec.Activation.TANH);
    SplittableRandom rng = new SplittableRandom(1);
    double[] theta = p.initialTheta(1);
    double[] x = new double[5];
    double[] a = new double[3];
    double[] grad = new double[p.numParams()];
    com.sun.management.ThreadMXBean bean =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long tid = Thread.currentThread().getId();
    for (int warm = 0; warm < 20_000; warm++) {
      p.sample(theta, x, 0, rng, a, 0);
      p.accumulateScore(theta, x, 0, a, 0, 0.1, grad);
    }
    long before = bean.getThreadAllocatedBytes(tid);
    for (int i = 0; i < 10_000; i++) {
      p.sample(theta, x, 0, rng, a, 0);
      p.accumulateScore(theta, x, 0, a, 0, 0.1, grad);
    }
    long allocated = bean.getThreadAllocatedBytes(tid) - before;
    // 20,000 calls: any per-call allocation would be >= 16 bytes each, i.e. >= 320 KB. The
    // slack covers the measuring calls themselves.
    assertTrue(allocated < 4096, "allocated " + allocated + " bytes in 20,000 calls");
  }

  @Test
  void forEnvPicksTheHeadFromTheActionSpaceAndRejectsOthers() {
    Space obs = new Space.Box(DType.FLOAT32, new int[] {4}, new double[] {-1, -1, -1, -1},
        new double[] {1, 1, 1, 1});
    EnvSpec discrete = new EnvSpec("D-v0", obs, new Space.Discrete(2, 0), 0, null);
    assertEquals(PolicySpec.Head.CATEGORICAL, Policies.forEnv(discrete, List.of(),
        PolicySpec.Activation.TANH, 0).spec().head());
    EnvSpec box = new EnvSpec("B-v0", obs, new Space.Box(DType.FLOAT32, new int[] {2},
        new double[] {-2, -2}, new double[] {2, 2}), 0, null);
    MlpPolicy g = Policies.forEnv(box, List.of(16), PolicySpec.Activation.RELU, 0);
    assertEquals(PolicySpec.Head.GAUSSIAN, g.spec().head());
    assertEquals((4 * 16 + 16) + (16 * 2 + 2) + 2, g.numParams());
    EnvSpec multi = new EnvSpec("M-v0", obs, new Space.MultiBinary(new int[] {3}), 0, null);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Policies.forEnv(multi, List.of(), PolicySpec.Activation.TANH, 0));
    assertTrue(e.getMessage().contains("action space of M-v0: expected Discrete or Box"),
        e.getMessage());
  }

  @Test
  void outOfRangeDiscreteActionIsRejectedNamingTheField() {
    MlpPolicy p = policy(PolicySpec.Head.CATEGORICAL, List.of(), PolicySpec.Activation.TANH);
    double[] theta = p.initialTheta(0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> p.logProb(theta, new double[5], 0, new double[] {3}, 0));
    assertEquals("action: expected an index in [0, 3), got 3.0", e.getMessage());
  }
}
