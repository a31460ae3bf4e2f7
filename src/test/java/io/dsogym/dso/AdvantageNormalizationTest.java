package io.dsogym.dso;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.collect.PolicyTransitions;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.PolicySpec;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Advantage normalization with a θ-dependent chain cost (here the entropy cost, docs/math.md
 * §2e): the trainer's update must stay the gradient of J + β·H for the configured β, only
 * rescaled. With w' = (w - mean)/s the score half is divided by s, so the cost half must be too;
 * the trainer used to divide only the score half, which weighs the regularizer by s relative to
 * the env's cost (the control below shows that version is not a rescaled gradient).
 */
class AdvantageNormalizationTest {
  @Test
  void normalizedUpdateIsTheRescaledGradientOfTheSameObjective() {
    MlpPolicy policy = new MlpPolicy(new PolicySpec(PolicySpec.Head.CATEGORICAL, 3, List.of(4),
        PolicySpec.Activation.TANH, 3), 0.0);
    SplittableRandom rng = new SplittableRandom(5);
    int n = 40;
    double[] obs = new double[3 * n];
    for (int i = 0; i < obs.length; i++) {
      obs[i] = rng.nextGaussian();
    }
    double[] theta = policy.initialTheta(3);
    for (int j = 0; j < theta.length; j++) {
      theta[j] += 0.3 * rng.nextGaussian();
    }
    double[] actions = new double[n];
    for (int i = 0; i < n; i++) {
      policy.sample(theta, obs, i * 3, rng, actions, i);
    }
    double[] w = new double[n];
    double[] kappa = new double[n];
    for (int i = 0; i < n; i++) {
      w[i] = 5 + 40 * rng.nextGaussian();  // returns of a scale far from 1
      kappa[i] = 1.0;
    }
    PolicyRegularizer entropy = new PolicyRegularizer(policy, obs, n, 0.5, 0, null);
    PolicyTransitions transitions = new PolicyTransitions(policy, obs, actions, n);

    double mean = Arrays.stream(w).average().orElseThrow();
    double[] centred = Arrays.stream(w).map(x -> (x - mean) / n).toArray();
    double[] kappaOverN = Arrays.stream(kappa).map(x -> x / n).toArray();
    double[] reference = new double[theta.length];
    new Surrogate(transitions, entropy, theta, centred, kappaOverN).gradientAtStart(reference);

    double[] wn = w.clone();
    double[] kn = kappa.clone();
    double s = AdvantageNormalization.apply(wn, kn, n);
    double[] normalized = new double[theta.length];
    new Surrogate(transitions, entropy, theta, scaled(wn, 1.0 / n), scaled(kn, 1.0 / n))
        .gradientAtStart(normalized);
    for (int j = 0; j < theta.length; j++) {
      assertEquals(reference[j] / s, normalized[j], 1e-12 * (1 + Math.abs(reference[j] / s)),
          "coordinate " + j);
    }

    // The old update: w normalized, κ not. It is not (1/s)·∇(J + β·H) for the configured β.
    double[] oldWay = new double[theta.length];
    new Surrogate(transitions, entropy, theta, scaled(wn, 1.0 / n), kappaOverN)
        .gradientAtStart(oldWay);
    double diff = 0;
    for (int j = 0; j < theta.length; j++) {
      diff = Math.max(diff, Math.abs(oldWay[j] - reference[j] / s));
    }
    assertTrue(diff > 1e-3, "the control must differ, got " + diff);
  }

  private static double[] scaled(double[] v, double k) {
    return Arrays.stream(v).map(x -> x * k).toArray();
  }
}
