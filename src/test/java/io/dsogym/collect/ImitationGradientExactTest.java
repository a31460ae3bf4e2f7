package io.dsogym.collect;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * Behavioural cloning in the chain (docs/math.md §6), checked against the exact gradient: the
 * real {@link ImitationLoop} over Java-native TabularChain-v0 lanes, whose cost is
 * L(s,θ) = −ln π(a*(s)|s,θ) for a fixed expert a*, gives a gradient that is unbiased for the
 * exact ∇J(θ), J the discounted imitation loss of the closed loop, computed by central
 * differences of the exact J ({@link TabularMdp} with reward −L(s,θ) at every action).
 *
 * <p>The MDP is {@link LayeredMdp} (random tables, fixed seed, rewards 0): every episode is
 * exactly 3 steps, so a batch of 3 steps per lane is one whole episode per lane. The estimate is the trainer's: Algorithm 1's weights
 * with V̂ the exact V, into a {@link Surrogate} over the batch's transitions and its imitation
 * cost. Over 300 runs of 16 lanes, every coordinate of the mean lies within 4.5 standard errors
 * of ∇J (27 coordinates vary). The comparison has power: dropping the score term (the
 * imitation loop without it) or the cost's own gradient is rejected on the same samples.
 */
class ImitationGradientExactTest {
  private static final int LAYERS = LayeredMdp.LAYERS;
  private static final int ACTIONS = LayeredMdp.ACTIONS;
  private static final int STATES = LayeredMdp.STATES;
  private static final double GAMMA = 0.9;
  private static final int LANES = 16;
  private static final int RUNS = 300;

  private static Map<String, Object> kwargs;
  private static int[] expert;
  private static MlpPolicy policy;
  private static double[] theta;
  private static double[] exactGradient;

  @BeforeAll
  static void setUp() {
    SplittableRandom rng = new SplittableRandom(20261201L);
    kwargs = LayeredMdp.kwargs(rng, false);  // the env's reward is not the cost
    expert = new int[STATES];
    for (int s = 0; s < STATES; s++) {
      expert[s] = rng.nextInt(ACTIONS);
    }
    policy = new MlpPolicy(new PolicySpec(PolicySpec.Head.CATEGORICAL, STATES, List.of(),
        PolicySpec.Activation.TANH, ACTIONS), 0.0);
    theta = new double[policy.numParams()];
    for (int i = 0; i < theta.length; i++) {
      theta[i] = 0.8 * rng.nextGaussian();
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

  /** The MDP whose reward at (s, a) is −L(s,θ) = ln π(a*(s)|s,θ), whatever a is. */
  private static TabularMdp mdpAt(double[] th) {
    double[][] pi = policyTable(th);
    double[][] rewards = new double[STATES][ACTIONS];
    for (int s = 0; s < STATES; s++) {
      java.util.Arrays.fill(rewards[s], Math.log(pi[s][expert[s]]));
    }
    Map<String, Object> k = new LinkedHashMap<>(kwargs);
    k.put("rewards", rewards);
    return TabularMdp.of(new TabularChainEnv(k));
  }

  private static double objective(double[] th) {
    return mdpAt(th).discountedObjective(policyTable(th), GAMMA);
  }

  private static double[][] policyTable(double[] th) {
    return LayeredMdp.policyTable(policy, th);
  }

  private enum Variant { FULL, NO_SCORE_TERM, NO_COST_GRADIENT }

  /** One run: one whole episode per lane; per variant, Σ_i (w_i s_i + κ_i ∇L_i) / lanes. */
  private static double[][] run(int r, double[] values) {
    double[][] out = new double[Variant.values().length][theta.length];
    for (Variant v : Variant.values()) {
      List<TabularChainEnv> lanes = new ArrayList<>();
      for (int i = 0; i < LANES; i++) {
        lanes.add(new TabularChainEnv(kwargs));
      }
      // the same seeds for every variant: the same episodes, only the estimator differs
      ServerSideCollector collector = new ServerSideCollector(
          new SyncVectorEnv(lanes, AutoresetMode.SAME_STEP), policy,
          new SplittableRandom(9_000_001L + 31L * r));
      collector.reset(1_000L * r);
      try (ImitationLoop loop = new ImitationLoop(new PolicyLoop(collector, policy,
          new ObservationNormalizer(STATES, false, 10)), ImitationGradientExactTest::label,
          v != Variant.NO_SCORE_TERM)) {
        ChainBatch batch = loop.collect(theta, LAYERS);
        assertEquals((long) LANES * LAYERS, loop.labelCount());
        out[v.ordinal()] = LayeredMdp.episodeGradient(batch.transitions(),
            v == Variant.NO_COST_GRADIENT ? null : batch.cost(), theta,
            LayeredMdp.weights(batch, values, GAMMA), LANES);
      }
    }
    return out;
  }

  private static void label(double[] obs, int off, double[] action, int aOff) {
    for (int s = 0; s < STATES; s++) {
      if (obs[off + s] == 1.0) {
        action[aOff] = expert[s];
        return;
      }
    }
    throw new AssertionError("observation at " + off + " is not one-hot");
  }

  @Test
  @DisplayName("the imitation chain's gradient is unbiased for the exact ∇J")
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
    double noScore = CoordinateZ.max(samples[Variant.NO_SCORE_TERM.ordinal()], exactGradient,
        worst);
    assertTrue(noScore > 8, "without the score term the test must reject: max z " + noScore);
    double noCost = CoordinateZ.max(samples[Variant.NO_COST_GRADIENT.ordinal()], exactGradient,
        worst);
    assertTrue(noCost > 8, "without the cost gradient the test must reject: max z " + noCost);
  }
}
