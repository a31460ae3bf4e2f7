package io.dsogym.collect;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.chain.ChainBatch;
import io.dsogym.dso.Algorithm1;
import io.dsogym.dso.Surrogate;
import io.dsogym.env.AutoresetMode;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.envs.control.LinearQuadraticRegulator;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policies;
import io.dsogym.policy.PolicySpec;
import io.dsogym.train.ExactObjective;
import io.dsogym.train.ExactObjectives;
import io.dsogym.train.TrainConfig;
import io.dsogym.train.TrainPresets;
import io.dsogym.wire.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * θ = (a linear Gaussian policy, A, B, Q) on LQR-v0 (docs/math.md §10): the gradient that the
 * real {@link PolicyLoop} with {@link SystemParameters} yields is unbiased for the exact ∇J,
 * central differences of the closed-form discounted J that a run with {@code --system-params
 * A,B,Q} reports ({@link ExactObjectives}).
 *
 * <p>The estimate is Monte-Carlo (λ = 1, V̂ = 0, γ^t state weights): each lane runs one episode
 * of T = 40 steps per batch, cut by the time limit with V̂ = 0, which drops γ^T·V(x_T): with
 * γ = 0.6 that is below 1e-8 of J. The process noise is W = 0.3² I, so the score of p,
 * W⁻¹(x' − Ax − Bu)·x, is of the order of the returns. Over 200 runs of 64 lanes, every
 * coordinate of the mean lies within 4.5 standard errors of ∇J, and a policy-only score is
 * rejected on the same samples.
 */
class LqrSystemGradientTest {
  private static final double GAMMA = 0.6;
  private static final int T = 40;
  private static final int LANES = 64;
  private static final int RUNS = 200;
  private static final String KWARGS = "{\"A\": [[0.9, 0.2], [-0.1, 0.8]], \"B\": [[0.1], "
      + "[0.5]], \"Q\": [[1.0, 0.2], [0.2, 0.5]], \"R\": [[0.3]], \"W\": [[0.09, 0], "
      + "[0, 0.09]], \"max_episode_steps\": " + T + "}";

  @Test
  @DisplayName("the joint (policy, A, B, Q) gradient is unbiased for the exact LQR ∇J")
  void unbiased() {
    TrainConfig config = TrainPresets.config(LinearQuadraticRegulator.ID, Map.of(
        "--source", "java", "--gamma", String.valueOf(GAMMA), "--normalize-obs", "false",
        "--env-kwargs", KWARGS, "--system-params", "A,B,Q"));
    Map<String, Object> kwargs = Json.parseObject(KWARGS, "kwargs");
    LinearQuadraticRegulator model = new LinearQuadraticRegulator(kwargs);
    MlpPolicy policy = Policies.forEnv(model.spec(), List.of(), PolicySpec.Activation.TANH,
        -0.5);
    SystemParameters system = new SystemParameters(model, config.systemParams(),
        policy.numParams());
    ObservationNormalizer normalizer = new ObservationNormalizer(2, false, 10);
    ExactObjective exact = ExactObjectives.forRun(config, model.spec(), policy, normalizer,
        system);
    double[] policyTheta = policy.initialTheta(3);
    policyTheta[0] = -0.4;  // a stabilizing gain, away from the optimum
    policyTheta[1] = -0.7;
    double[] theta = system.initialTheta(policyTheta);
    double[] grad = new double[theta.length];
    double h = 1e-6;
    for (int k = 0; k < theta.length; k++) {
      double[] plus = theta.clone();
      double[] minus = theta.clone();
      plus[k] += h;
      minus[k] -= h;
      grad[k] = (exact.objective(plus) - exact.objective(minus)) / (2 * h);
    }

    Algorithm1.Options options = new Algorithm1.Options(Algorithm1.Setting.DISCOUNTED, GAMMA,
        1.0, true);
    double[][] full = new double[RUNS][];
    double[][] policyOnly = new double[RUNS][];
    for (int r = 0; r < RUNS; r++) {
      List<LinearQuadraticRegulator> lanes = new ArrayList<>();
      for (int i = 0; i < LANES; i++) {
        lanes.add(new LinearQuadraticRegulator(kwargs));
      }
      ServerSideCollector collector = new ServerSideCollector(
          new SyncVectorEnv(lanes, AutoresetMode.SAME_STEP), policy,
          new SplittableRandom(55_555L + 17L * r));
      collector.reset(777L * r);
      try (PolicyLoop loop = new PolicyLoop(collector, policy, normalizer, system, lanes)) {
        ChainBatch batch = loop.collect(theta, T);
        int n = batch.size();
        double[] zero = new double[n];
        double[] weights = new double[n];
        double[] targets = new double[n];
        Algorithm1.weights(batch.steps(), zero, zero, options, 0.0, weights, targets);
        double[] advantage = new double[n];
        double[] stateWeight = new double[n];
        for (int i = 0; i < n; i++) {
          advantage[i] = weights[i] / n;
          stateWeight[i] = Algorithm1.stateWeight(batch.steps(), i, options) / n;
        }
        full[r] = estimate(new Surrogate(batch.transitions(), batch.cost(), theta, advantage,
            stateWeight), n, theta.length);
        policyOnly[r] = estimate(new Surrogate(new PolicyPartOnly(new PolicyTransitions(policy,
            batch.features(), batch.steps().actions, n), theta.length), batch.cost(), theta,
            advantage, stateWeight), n, theta.length);
      }
    }
    StringBuilder worst = new StringBuilder();
    double z = CoordinateZ.max(full, grad, worst);
    assertTrue(z < 4.5, "max z " + z + " at " + worst);
    double zPolicyOnly = CoordinateZ.max(policyOnly, grad, worst);
    assertTrue(zPolicyOnly > 8, "a policy-only score must be rejected: max z " + zPolicyOnly);
  }

  private static double[] estimate(Surrogate surrogate, int n, int dim) {
    double[] g = new double[dim];
    surrogate.gradientAtStart(g);
    for (int k = 0; k < dim; k++) {
      g[k] *= (double) n / LANES;  // one episode per lane: the per-episode estimate
    }
    return g;
  }

}
