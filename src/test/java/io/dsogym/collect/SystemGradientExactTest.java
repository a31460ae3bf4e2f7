package io.dsogym.collect;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.chain.ChainBatch;
import io.dsogym.dso.Surrogate;
import io.dsogym.env.AutoresetMode;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.envs.tabular.TabularChainEnv;
import io.dsogym.oracle.TabularMdp;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.PolicySpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * θ in the dynamics and the cost, checked against the exact gradient (docs/math.md §10): the
 * real {@link PolicyLoop} with {@link SystemParameters} over Java-native TabularChain-v0 lanes,
 * θ = (a linear softmax policy, every transition logit, every reward), gives a gradient that is
 * unbiased for the exact ∇J(θ_π, φ), computed by central differences of the exact discounted J
 * of the MDP at φ ({@link TabularMdp}).
 *
 * <p><b>The MDP</b> is {@link LayeredMdp} (random tables and rewards, fixed seed): every
 * episode is exactly 3 steps and terminates, so a batch of 3 steps per lane is one whole
 * episode per lane, with nothing truncated: no term of ∇J lies beyond the batch.
 *
 * <p><b>Estimate</b>: as the trainer computes it, with V̂ the exact V at φ: Algorithm 1's weights
 * (λ = 1, γ^t state weights, no normalization) into a {@link Surrogate} over the batch's joint
 * transitions (ln π + ln p) and its θ-dependent cost ℓ(x,a,φ); n·ĝ / lanes is then one
 * episode's estimate of ∇J (the normalisation of ExactTrainingPathTest with L = 3 steps).
 *
 * <p><b>Assertions</b>: over 300 runs of 16 lanes, every coordinate of the mean lies within 4.5
 * standard errors of ∇J (about 110 coordinates vary; P(any |z| > 4.5) ≈ 110 · 7e-6 under
 * the null). Coordinates the samples never touch (logits outside the support, rows of terminal
 * states) are exactly 0 on both sides. The comparison has power: dropping the system's score
 * (a policy-only estimator) or its cost gradient is rejected on the same samples.
 */
class SystemGradientExactTest {
  private static final int LAYERS = LayeredMdp.LAYERS;
  private static final int ACTIONS = LayeredMdp.ACTIONS;
  private static final int STATES = LayeredMdp.STATES;
  private static final double GAMMA = 0.9;
  private static final int LANES = 16;
  private static final int RUNS = 300;

  private static Map<String, Object> kwargs;
  private static MlpPolicy policy;
  private static SystemParameters system;
  private static double[] theta;
  private static double[] exactGradient;

  @BeforeAll
  static void setUp() {
    SplittableRandom rng = new SplittableRandom(20261130L);
    kwargs = LayeredMdp.kwargs(rng, true);
    policy = new MlpPolicy(new PolicySpec(PolicySpec.Head.CATEGORICAL, STATES, List.of(),
        PolicySpec.Activation.TANH, ACTIONS), 0.0);
    TabularChainEnv model = new TabularChainEnv(kwargs);
    system = new SystemParameters(model, List.of("transition_logits", "rewards"),
        policy.numParams());
    double[] policyTheta = new double[policy.numParams()];
    for (int i = 0; i < policyTheta.length; i++) {
      policyTheta[i] = 0.8 * rng.nextGaussian();
    }
    theta = system.initialTheta(policyTheta);
    for (int k = policy.numParams(); k < theta.length; k++) {
      theta[k] += 0.3 * rng.nextGaussian();  // away from the given tables
    }
    exactGradient = new double[theta.length];
    double h = 1e-5;
    for (int k = 0; k < theta.length; k++) {
      double[] plus = theta.clone();
      double[] minus = theta.clone();
      plus[k] += h;
      minus[k] -= h;
      exactGradient[k] = (objective(plus) - objective(minus)) / (2 * h);
    }
  }

  private static TabularMdp mdpAt(double[] th) {
    TabularChainEnv env = new TabularChainEnv(kwargs);
    env.setSystemParams(system.phi(th));
    return TabularMdp.of(env);
  }

  private static double objective(double[] th) {
    return mdpAt(th).discountedObjective(policyTable(th), GAMMA);
  }

  private static double[][] policyTable(double[] th) {
    return LayeredMdp.policyTable(policy, th);
  }

  private enum Variant { FULL, NO_SYSTEM_SCORE, NO_COST_GRADIENT }

  /** One run: one whole episode per lane; per variant, Σ_i (w_i s_i + κ_i ∇ℓ_i) / lanes. */
  private static double[][] run(int r, double[] values) {
    List<TabularChainEnv> lanes = new ArrayList<>();
    for (int i = 0; i < LANES; i++) {
      lanes.add(new TabularChainEnv(kwargs));
    }
    ObservationNormalizer normalizer = new ObservationNormalizer(STATES, false, 10);
    ServerSideCollector collector = new ServerSideCollector(
        new SyncVectorEnv(lanes, AutoresetMode.SAME_STEP), policy,
        new SplittableRandom(9_000_001L + 31L * r));
    collector.reset(1_000L * r);
    double[][] out = new double[Variant.values().length][theta.length];
    try (PolicyLoop loop = new PolicyLoop(collector, policy, normalizer, system, lanes)) {
      ChainBatch batch = loop.collect(theta, LAYERS);
      double[][] weights = LayeredMdp.weights(batch, values, GAMMA);
      for (Variant v : Variant.values()) {
        out[v.ordinal()] = LayeredMdp.episodeGradient(
            v == Variant.NO_SYSTEM_SCORE ? policyOnly(batch) : batch.transitions(),
            v == Variant.NO_COST_GRADIENT ? null : batch.cost(), theta, weights, LANES);
      }
    }
    return out;
  }

  private static PolicyPartOnly policyOnly(ChainBatch batch) {
    return new PolicyPartOnly(new PolicyTransitions(policy, batch.features(),
        batch.steps().actions, batch.size()), theta.length);
  }

  @Test
  @DisplayName("the joint (policy, dynamics, cost) gradient is unbiased for the exact ∇J")
  void unbiased() {
    double[] values = mdpAt(theta).discountedValues(policyTable(theta), GAMMA);
    double[][][] samples = new double[Variant.values().length][RUNS][];
    for (int r = 0; r < RUNS; r++) {
      double[][] one = run(r, values);
      for (Variant v : Variant.values()) {
        samples[v.ordinal()][r] = one[v.ordinal()];
      }
    }
    StringBuilder worst = new StringBuilder();
    double full = CoordinateZ.max(samples[Variant.FULL.ordinal()], exactGradient, worst);
    assertTrue(full < 4.5, "full estimator: max z " + full + " at " + worst);
    double noScore = CoordinateZ.max(samples[Variant.NO_SYSTEM_SCORE.ordinal()], exactGradient,
        worst);
    assertTrue(noScore > 8, "without the system score the test must reject: max z " + noScore);
    double noCost = CoordinateZ.max(samples[Variant.NO_COST_GRADIENT.ordinal()], exactGradient,
        worst);
    assertTrue(noCost > 8, "without the cost gradient the test must reject: max z " + noCost);
  }
}
