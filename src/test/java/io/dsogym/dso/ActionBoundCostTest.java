package io.dsogym.dso;

import static io.dsogym.dso.Oracles.close;
import static io.dsogym.dso.SurrogateTest.perturbed;
import static io.dsogym.dso.SurrogateTest.randomVector;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.PolicySpec;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The action-bound chain cost κ Σ_j max(0, μ_j beyond [low_j, high_j])². */
class ActionBoundCostTest {
  private static final int OBS = 3;
  private static final double INF = Double.POSITIVE_INFINITY;

  @Test
  @DisplayName("exact values: the squared excess beyond each finite bound, zero inside and for infinite bounds")
  void exactValues() {
    // a linear Gaussian with zero weights: μ = b whatever x
    MlpPolicy policy = new MlpPolicy(new PolicySpec(PolicySpec.Head.GAUSSIAN, OBS, List.of(),
        PolicySpec.Activation.TANH, 3), -0.5);
    double[] theta = new double[policy.numParams()];
    double[] obs = {0.3, -1.2, 0.7};
    double[] means = {2.5, -3.25, -40};
    double[] params = new double[6];
    for (int bias = 0; bias < theta.length; bias++) {  // find b_j: the entry that moves μ_j alone
      double[] t = new double[theta.length];
      t[bias] = 1;
      policy.distributionParams(t, obs, 0, params);
      for (int j = 0; j < 3; j++) {
        if (params[j] == 1 && params[(j + 1) % 3] == 0 && params[(j + 2) % 3] == 0) {
          theta[bias] = means[j];
        }
      }
    }
    policy.distributionParams(theta, obs, 0, params);
    close("μ", means, new double[] {params[0], params[1], params[2]}, 0);
    double kappa = 0.7;
    ActionBoundCost cost = new ActionBoundCost(policy, obs, kappa, new double[] {-2, -2, -INF},
        new double[] {2, 2, INF});
    // (2.5 - 2)² + (-2 - -3.25)², and nothing for the unbounded third dimension
    close("κ Σ excess²", kappa * (0.25 + 1.5625), cost.cost(theta, 0), 1e-15);
    double[] g = new double[theta.length];
    close("the cost returned with the gradient", kappa * 1.8125,
        cost.accumulateGradient(theta, 0, 1.0, g), 1e-15);
    ActionBoundCost wide = new ActionBoundCost(policy, obs, kappa, new double[] {-3, -4, -50},
        new double[] {3, 4, 50});
    close("inside the Box", 0.0, wide.cost(theta, 0), 0);
    close("no gradient inside the Box", new double[theta.length], gradient(wide, theta, 0),
        0);
  }

  @Test
  @DisplayName("the gradient of an MLP policy's cost matches finite differences, states inside and outside")
  void gradientMatchesFiniteDifferences() {
    MlpPolicy policy = new MlpPolicy(new PolicySpec(PolicySpec.Head.GAUSSIAN, OBS, List.of(5),
        PolicySpec.Activation.TANH, 2), -0.3);
    SplittableRandom rng = new SplittableRandom(41);
    int states = 8;
    double[] obs = randomVector(OBS * states, rng);
    double[] theta = perturbed(policy.initialTheta(7), 0.8, 11);
    ActionBoundCost cost = new ActionBoundCost(policy, obs, 1.3, new double[] {-0.5, -INF},
        new double[] {0.5, 0.6});
    int outside = 0;
    int inside = 0;
    for (int i = 0; i < states; i++) {
      final int state = i;
      double c = cost.cost(theta, i);
      outside += c > 1e-6 ? 1 : 0;  // well away from the kink, where FD is exact enough
      inside += c == 0 ? 1 : 0;
      close("∇ cost at x_" + i,
          ExactGradientFiniteDifferenceTest.fdGradient(t -> cost.cost(t, state), theta),
          gradient(cost, theta, i), 1e-6);
    }
    assertTrue(outside >= 2 && inside >= 2, "the states cover both sides of the bounds: "
        + outside + " outside, " + inside + " inside");
  }

  @Test
  @DisplayName("a categorical policy, mismatched bounds or κ <= 0 are refused, naming what was expected")
  void refusesBadInput() {
    MlpPolicy categorical = new MlpPolicy(new PolicySpec(PolicySpec.Head.CATEGORICAL, OBS,
        List.of(), PolicySpec.Activation.TANH, 2), 0);
    var e = assertThrows(IllegalArgumentException.class, () -> new ActionBoundCost(categorical,
        new double[OBS], 1, new double[] {-1, -1}, new double[] {1, 1}));
    assertTrue(e.getMessage().contains("bound-coef: expected a Gaussian policy"), e.getMessage());
    MlpPolicy gaussian = new MlpPolicy(new PolicySpec(PolicySpec.Head.GAUSSIAN, OBS, List.of(),
        PolicySpec.Activation.TANH, 2), 0);
    e = assertThrows(IllegalArgumentException.class, () -> new ActionBoundCost(gaussian,
        new double[OBS], 1, new double[] {-1}, new double[] {1}));
    assertTrue(e.getMessage().contains("expected 2 low and high values"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new ActionBoundCost(gaussian,
        new double[OBS], 0, new double[] {-1, -1}, new double[] {1, 1}));
    assertTrue(e.getMessage().contains("bound-coef: expected > 0, got 0"), e.getMessage());
  }

  private static double[] gradient(ActionBoundCost cost, double[] theta, int i) {
    double[] g = new double[theta.length];
    cost.accumulateGradient(theta, i, 1.0, g);
    return g;
  }
}
