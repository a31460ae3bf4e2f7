package io.dsogym.dso;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.chain.StateCost;
import io.dsogym.chain.TransitionLikelihood;
import io.dsogym.collect.PolicyTransitions;
import io.dsogym.optim.Adam;
import io.dsogym.policy.Mlp;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.PolicySpec;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The learner's batched passes against per-transition evaluation: the surrogate over a
 * policy's minibatches (matrix products) against the same transitions seen one at a time, and
 * V̂'s minibatch fit against a fit written row by row. Tolerance 1e-12 relative: only
 * floating-point reassociation.
 */
class BatchedLearnerPassesTest {
  private static void assertClose(double expected, double actual, String what) {
    assertTrue(Math.abs(expected - actual) <= 1e-12 * Math.max(1e-300, Math.abs(expected)),
        what + ": expected " + expected + ", got " + actual);
  }

  private static void assertClose(double[] expected, double[] actual, String what) {
    double scale = 0;
    double worst = 0;
    for (int i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
    }
    assertTrue(worst <= 1e-12 * scale, what + ": max |batched - per row| = " + worst
        + " at magnitude " + scale);
  }

  /** Hides the batched methods: the surrogate falls back to one transition at a time. */
  private record OneAtATime(TransitionLikelihood inner) implements TransitionLikelihood {
    public int size() {
      return inner.size();
    }

    public int numParams() {
      return inner.numParams();
    }

    public double logLikelihood(double[] theta, int i) {
      return inner.logLikelihood(theta, i);
    }

    public double accumulateScore(double[] theta, int i, double weight, double[] grad) {
      return inner.accumulateScore(theta, i, weight, grad);
    }
  }

  /** n transitions sampled from a 64x64 policy over 7 observations, with their weights. */
  private record Sampled(MlpPolicy pi, double[] thetaK, double[] obs, double[] actions,
      double[] advantage, double[] kappa) {
    static final int N = 600;

    /** @param unevenKappa κ_i drawn from [0.5, 1.5]/N instead of 1/N */
    static Sampled draw(PolicySpec.Head head, SplittableRandom rng, boolean unevenKappa) {
      MlpPolicy pi = new MlpPolicy(new PolicySpec(head, 7, List.of(64, 64),
          PolicySpec.Activation.TANH, 3), -0.2);
      double[] thetaK = pi.initialTheta(3);
      double[] obs = new double[N * 7];
      for (int i = 0; i < obs.length; i++) {
        obs[i] = rng.nextDouble(-2, 2);
      }
      double[] actions = new double[N * pi.actionDim()];
      double[] advantage = new double[N];
      double[] kappa = new double[N];
      for (int i = 0; i < N; i++) {
        pi.sample(thetaK, obs, i * 7, rng, actions, i * pi.actionDim());
        advantage[i] = rng.nextDouble(-1, 1) / N;
        kappa[i] = unevenKappa ? rng.nextDouble(0.5, 1.5) / N : 1.0 / N;
      }
      return new Sampled(pi, thetaK, obs, actions, advantage, kappa);
    }

    PolicyTransitions transitions() {
      return new PolicyTransitions(pi, obs, actions, N);
    }

    /** θ_k moved by up to ±0.05 a coordinate: ratios away from 1, some clipped. */
    double[] nearby(SplittableRandom rng) {
      double[] theta = thetaK.clone();
      for (int j = 0; j < theta.length; j++) {
        theta[j] += rng.nextDouble(-0.05, 0.05);
      }
      return theta;
    }

    static int[] shuffled() {
      int[] order = new int[N];
      for (int i = 0; i < N; i++) {
        order[i] = (i * 7919) % N;
      }
      return order;
    }
  }

  /** The surrogate's values and gradients, one minibatch and whole, at θ and at θ_k. */
  private static void assertSurrogatesAgree(Surrogate slow, Surrogate fast, double[] theta,
      int[] order) {
    double[] expected = new double[theta.length];
    double[] actual = new double[theta.length];
    assertClose(slow.gradient(theta, order, 100, 420, 0.2, expected, null),
        fast.gradient(theta, order, 100, 420, 0.2, actual, null), "minibatch S̃");
    assertClose(expected, actual, "minibatch ∇S̃");
    assertClose(slow.gradient(theta, expected), fast.gradient(theta, actual), "S̃");
    assertClose(expected, actual, "∇S̃");
    assertClose(slow.value(theta), fast.value(theta), "S̃ without a gradient");
    slow.gradientAtStart(expected);
    fast.gradientAtStart(actual);
    assertClose(expected, actual, "∇S̃(θ_k)");
    assertClose(slow.meanKl(theta), fast.meanKl(theta), "sampled KL");
  }

  @ParameterizedTest
  @EnumSource(PolicySpec.Head.class)
  void surrogateOverBatchedPolicyPassesEqualsPerTransition(PolicySpec.Head head) {
    SplittableRandom rng = new SplittableRandom(5);
    Sampled b = Sampled.draw(head, rng, false);
    Surrogate fast = new Surrogate(b.transitions(), StateCost.NONE, b.thetaK(), b.advantage(),
        b.kappa());
    Surrogate slow = new Surrogate(new OneAtATime(b.transitions()), StateCost.NONE, b.thetaK(),
        b.advantage(), b.kappa());
    assertSurrogatesAgree(slow, fast, b.nearby(rng), Sampled.shuffled());
  }

  /** Hides a cost's batched method: the surrogate falls back to one state at a time. */
  private record OneCostAtATime(StateCost inner) implements StateCost {
    public double cost(double[] theta, int i) {
      return inner.cost(theta, i);
    }

    public double accumulateGradient(double[] theta, int i, double weight, double[] grad) {
      return inner.accumulateGradient(theta, i, weight, grad);
    }
  }

  @ParameterizedTest
  @EnumSource(PolicySpec.Head.class)
  void costsOnThePolicyOverMinibatchesEqualPerState(PolicySpec.Head head) {
    SplittableRandom rng = new SplittableRandom(6);
    Sampled b = Sampled.draw(head, rng, true);
    int n = Sampled.N;
    double[] thetaRef = b.thetaK().clone();
    for (int j = 0; j < thetaRef.length; j++) {
      thetaRef[j] += rng.nextDouble(-0.1, 0.1);
    }
    // entropy and KL to another policy; for a Gaussian, also means beyond tight bounds
    StateCost cost = new PolicyRegularizer(b.pi(), b.obs(), n, 0.01, 0.5, thetaRef);
    if (head == PolicySpec.Head.GAUSSIAN) {
      // bounds the small initial means cross at some states and not at others
      ActionBoundCost bound = new ActionBoundCost(b.pi(), b.obs(), 10, new double[] {-0.005,
          -0.008, -0.003}, new double[] {0.005, 0.003, 0.008});
      int active = 0;
      for (int i = 0; i < n; i++) {
        active += bound.cost(b.thetaK(), i) > 0 ? 1 : 0;
      }
      assertTrue(active > n / 5 && active < n, active + " of " + n + " states beyond a bound");
      cost = bound.plus(cost);
    }
    Surrogate fast = new Surrogate(b.transitions(), cost, b.thetaK(), b.advantage(), b.kappa());
    Surrogate slow = new Surrogate(new OneAtATime(b.transitions()), new OneCostAtATime(cost),
        b.thetaK(), b.advantage(), b.kappa());
    double[] theta = b.nearby(rng);
    int[] order = Sampled.shuffled();
    assertSurrogatesAgree(slow, fast, theta, order);
    double[] costs = new double[320];
    cost.accumulateGradients(theta, order, 100, 420, b.kappa(), null, costs);
    for (int k = 100; k < 420; k++) {
      assertClose(cost.cost(theta, order[k]), costs[k - 100], "L at state " + order[k]);
    }
  }

  @ParameterizedTest
  @EnumSource(PolicySpec.Activation.class)
  void valueFitAndPredictionsEqualRowByRow(PolicySpec.Activation activation) {
    SplittableRandom rng = new SplittableRandom(9);
    int rows = 300;
    int d = 5;
    double[] xs = new double[rows * d];
    double[] targets = new double[rows];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = rng.nextDouble(-2, 2);
    }
    for (int i = 0; i < rows; i++) {
      targets[i] = Math.sin(xs[i * d]) + rng.nextDouble(-0.1, 0.1);
    }
    ValueFunction v = new ValueFunction(d, List.of(64, 64), activation, 1e-3, 4);
    Mlp net = new Mlp(new int[] {d, 64, 64, 1}, activation);
    double[] theta = v.theta();
    Adam adam = new Adam(1e-3);
    // the fit row by row: the same shuffles, per-row backward passes, Adam per minibatch
    SplittableRandom shuffles = new SplittableRandom(11);
    int epochs = 3;
    int minibatch = 64;
    int[] order = new int[rows];
    for (int i = 0; i < rows; i++) {
      order[i] = i;
    }
    double[] grad = new double[theta.length];
    double[] out = new double[1];
    for (int e = 0; e < epochs; e++) {
      for (int i = rows - 1; i > 0; i--) {
        int j = shuffles.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      for (int start = 0; start < rows; start += minibatch) {
        int end = Math.min(rows, start + minibatch);
        java.util.Arrays.fill(grad, 0);
        for (int k = start; k < end; k++) {
          net.forward(theta, 0, xs, order[k] * d, out, 0);
          out[0] -= targets[order[k]];
          net.backward(theta, 0, out, 0, 2.0 / (end - start), grad);
        }
        adam.step(theta, grad);
      }
    }
    v.fit(xs, targets, rows, epochs, minibatch, new SplittableRandom(11));
    assertClose(theta, v.theta(), "fitted V̂ parameters");

    double[] expected = new double[rows];
    for (int r = 0; r < rows; r++) {
      expected[r] = v.predict(xs, r * d);
    }
    double[] actual = new double[rows];
    v.predictBatch(xs, rows, actual);
    assertClose(expected, actual, "V̂ predictions");
  }
}
