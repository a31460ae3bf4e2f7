package io.dsogym.dso;

import static io.dsogym.dso.SurrogateTest.perturbed;
import static io.dsogym.dso.SurrogateTest.randomVector;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.chain.StateCost;
import io.dsogym.chain.TransitionLikelihood;
import io.dsogym.collect.PolicyTransitions;
import io.dsogym.optim.Adam;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.PolicySpec;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Off-chain batches (docs/math.md §4b, collect-ahead): the transitions were sampled under an
 * earlier policy, so S̃(θ_k) = Σ A_i (r_i(θ_k) - 1) is not 0. A line search or acceptance test
 * must compare S̃(θ) with S̃(θ_k), and every optimizer reports ΔS̃ = S̃(θ_{k+1}) - S̃(θ_k), the
 * predicted change of J, not S̃(θ_{k+1}).
 */
class OffChainSurrogateChangeTest {
  private static final int OBS = 4;
  private static final double HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

  /**
   * A categorical policy's batch sampled under a behaviour policy one update before θ_k, with
   * advantages signed so that every term A_i (r_i(θ_k) - 1) is positive: S̃(θ_k) > 0.
   */
  private record OffChainBatch(double[] thetaK, Surrogate surrogate) {}

  private static OffChainBatch positiveStartBatch() {
    MlpPolicy policy = new MlpPolicy(new PolicySpec(PolicySpec.Head.CATEGORICAL, OBS, List.of(),
        PolicySpec.Activation.TANH, 3), 0.0);
    SplittableRandom rng = new SplittableRandom(41);
    int n = 64;
    double[] obs = randomVector(OBS * n, rng);
    double[] behaviour = perturbed(policy.initialTheta(1), 0.5, 6);
    double[] thetaK = perturbed(behaviour, 0.4, 7);
    double[] actions = new double[n];
    double[] logB = new double[n];
    double[] a = randomVector(n, rng);
    double[] kappa = new double[n];
    for (int i = 0; i < n; i++) {
      policy.sample(behaviour, obs, i * OBS, rng, actions, i);
      logB[i] = policy.logProb(behaviour, obs, i * OBS, actions, i);
      double r = Math.exp(policy.logProb(thetaK, obs, i * OBS, actions, i) - logB[i]);
      a[i] = Math.copySign(Math.abs(a[i]) / n, r - 1);
      kappa[i] = 1.0 / n;
    }
    Surrogate s = new Surrogate(new PolicyTransitions(policy, obs, actions, n), StateCost.NONE,
        thetaK, a, kappa).withBehaviour(logB);
    return new OffChainBatch(thetaK, s);
  }

  @Test
  @DisplayName("natural gradient, S̃(θ_k) > 0: an improving step is taken although S̃(θ_k+1) > 0, and ΔS̃ is reported")
  void naturalGradientTakesAnImprovingStepWhenTheStartIsPositive() {
    OffChainBatch b = positiveStartBatch();
    Surrogate s = b.surrogate();
    double start = s.value(b.thetaK());
    assertTrue(start > 0.05, "the batch is off-chain with S̃(θ_k) = " + start + " > 0");
    double maxKl = 1e-3;
    double[] theta = b.thetaK().clone();
    PolicyImprovement.Report r = new NaturalGradient(new NaturalGradient.Options(maxKl, 50,
        1e-6, 10, false)).improve(s, theta, 0);
    assertFalse(Arrays.equals(b.thetaK(), theta), "the natural gradient refused to move: " + r);
    double after = s.value(theta);
    assertTrue(after < start, "S̃ went from " + start + " to " + after);
    assertTrue(after > 0, "the accepted point still has S̃ = " + after + " > 0, so a test "
        + "'S̃(θ) < 0' would have refused it");
    assertTrue(r.kl() <= 1.5 * maxKl, "inside the trust region: " + r);
    assertEquals(after - start, r.surrogateChange(), 1e-12,
        "the report is S̃(θ_k+1) - S̃(θ_k): " + r);
  }

  /**
   * One transition of the chain x' ~ N(θ, 1), recorded at x' = 0: ln P(θ) = -θ²/2 - ½ ln 2π,
   * score -θ, so the recorded Fisher is θ_k² = 1 at θ_k = 1. It was sampled by the behaviour
   * θ_b = 2 (ln P_b = -2 - ½ ln 2π), so r(θ_k) = e^{1.5}; with A = -1 (a cheap transition)
   * S̃(θ) = -(e^{2 - θ²/2} - 1) and S̃(θ_k) = -(e^{1.5} - 1) ≈ -3.48 < 0. ∇S̃(θ_k) = e^{1.5} > 0,
   * F = 1, so the natural gradient steps θ down by √(2 maxKl). maxKl = 3.125 gives a full
   * step of 2.5 to θ = -1.5: S̃(-1.5) = -(e^{0.875} - 1) ≈ -1.40, still negative but worse
   * than S̃(θ_k); its sampled KL (r - 1) - ln r with ln r = -0.625 is 0.160, inside 1.5 maxKl.
   * The half step, θ = -0.25, improves: S̃ = -(e^{1.96875} - 1) ≈ -6.16.
   */
  private static Surrogate negativeStartToy() {
    TransitionLikelihood gaussian = new TransitionLikelihood() {
      @Override
      public int size() {
        return 1;
      }

      @Override
      public int numParams() {
        return 1;
      }

      @Override
      public double logLikelihood(double[] theta, int i) {
        return -0.5 * theta[0] * theta[0] - HALF_LOG_2PI;
      }

      @Override
      public double accumulateScore(double[] theta, int i, double weight, double[] grad) {
        grad[0] += weight * -theta[0];
        return logLikelihood(theta, i);
      }
    };
    return new Surrogate(gaussian, StateCost.NONE, new double[] {1.0}, new double[] {-1.0},
        new double[] {1.0}).withBehaviour(new double[] {-2.0 - HALF_LOG_2PI});
  }

  private static double toyValue(double theta) {
    return -(Math.exp(2 - 0.5 * theta * theta) - 1);
  }

  @Test
  @DisplayName("natural gradient, S̃(θ_k) < 0: a step that raises S̃ is refused although S̃(θ) < 0")
  void naturalGradientRefusesAWorseningStepWhenTheStartIsNegative() {
    Surrogate s = negativeStartToy();
    assertEquals(toyValue(1.0), s.value(new double[] {1.0}), 1e-12, "S̃(θ_k)");
    assertTrue(toyValue(1.0) < 0 && toyValue(-1.5) < 0 && toyValue(-1.5) > toyValue(1.0),
        "the full step is worse than θ_k but still below 0");
    assertEquals(0.160, s.meanKl(new double[] {-1.5}), 1e-3, "the full step's sampled KL");

    double[] theta = {1.0};
    PolicyImprovement.Report r = new NaturalGradient(new NaturalGradient.Options(3.125, 5, 0.0,
        0, false)).improve(s, theta, 0);
    assertArrayEquals(new double[] {1.0}, theta, 0.0,
        "with no backtrack the only candidate, θ = -1.5, raises S̃ and is refused: " + r);
    assertEquals(0.0, r.surrogateChange(), 0.0, "no step, no change: " + r);

    theta[0] = 1.0;
    r = new NaturalGradient(new NaturalGradient.Options(3.125, 5, 0.0, 2, false)).improve(s, theta, 0);
    assertEquals(-0.25, theta[0], 1e-9, "one halving, to the improving θ = -0.25: " + r);
    assertEquals(toyValue(-0.25) - toyValue(1.0), r.surrogateChange(), 1e-9,
        "ΔS̃ = S̃(-0.25) - S̃(1) ≈ -2.68: " + r);
  }

  @Test
  @DisplayName("PCO off-chain reports ΔS̃ = S̃(θ_k+1) - S̃(θ_k)")
  void pcoReportsTheChangeRelativeToTheStart() {
    OffChainBatch b = positiveStartBatch();
    Surrogate s = b.surrogate();
    double start = s.value(b.thetaK());
    double[] theta = b.thetaK().clone();
    PolicyImprovement.Report r = new ProximalChainOptimization(new Adam(0.01),
        new ProximalChainOptimization.Options(4, 4, 0.2, false, 0, 0), 3).improve(s, theta, 0);
    assertEquals(s.value(theta) - start, r.surrogateChange(), 1e-12, r.toString());
    assertTrue(r.surrogateChange() < 0, "4 epochs lowered S̃: " + r);
  }

  @Test
  @DisplayName("Chain Iteration off-chain, S̃(θ_k) > 0: steps are accepted relative to S̃(θ_k) and ΔS̃ is reported")
  void chainIterationReportsTheChangeRelativeToTheStart() {
    OffChainBatch b = positiveStartBatch();
    Surrogate s = b.surrogate();
    double start = s.value(b.thetaK());
    double[] theta = b.thetaK().clone();
    PolicyImprovement.Report r = new ChainIteration(new ChainIteration.Options(3, 20, 1.0, 1e-3,
        0.01)).improve(s, theta, 0);
    assertFalse(r.detail().startsWith("0/"), "Chain Iteration took a step: " + r);
    assertEquals(s.value(theta) - start, r.surrogateChange(), 1e-12, r.toString());
    assertTrue(r.surrogateChange() < 0, r.toString());
  }
}
