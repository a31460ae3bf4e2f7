package io.dsogym.dso;

import static io.dsogym.dso.Oracles.close;
import static io.dsogym.dso.SurrogateTest.perturbed;
import static io.dsogym.dso.SurrogateTest.randomVector;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.PolicySpec;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The KL chain cost of docs/math.md §2f is λ KL(π_θ(·|x) ‖ π̄(·|x)) = λ E_{a~π_θ}[ln π_θ(a|x) -
 * ln π̄(a|x)], for a fixed reference π̄ and for the proximal π̄ = π_θk. The exact KL here is
 * computed independently of {@link PolicyRegularizer}'s closed forms, from the policy's own
 * ln π: a sum over the actions (categorical), or the Gauss-Hermite rule with nodes 0, ±√3 and
 * weights 2/3, 1/6, 1/6 per action dimension (Gaussian), which is exact here because the
 * log-ratio of two Gaussians is quadratic in a.
 */
class PolicyRegularizerKlTest {
  private static final int OBS = 3;
  private static final int STATES = 6;
  private static final double[] NODES = {0, Math.sqrt(3), -Math.sqrt(3)};
  private static final double[] WEIGHTS = {2.0 / 3, 1.0 / 6, 1.0 / 6};

  private static MlpPolicy policy(PolicySpec.Head head) {
    return new MlpPolicy(new PolicySpec(head, OBS, List.of(5), PolicySpec.Activation.TANH,
        head == PolicySpec.Head.CATEGORICAL ? 4 : 2), -0.2);
  }

  /** KL(π(·|x, θ) ‖ π(·|x', ref)) from ln π alone; x at obs[i], x' at refObs[i]. */
  static double exactKl(MlpPolicy policy, double[] theta, double[] obs, double[] ref,
      double[] refObs, int i) {
    int off = i * OBS;
    if (policy.spec().head() == PolicySpec.Head.CATEGORICAL) {
      double kl = 0;
      double[] a = new double[1];
      for (int k = 0; k < policy.spec().outputs(); k++) {
        a[0] = k;
        double logP = policy.logProb(theta, obs, off, a, 0);
        kl += Math.exp(logP) * (logP - policy.logProb(ref, refObs, off, a, 0));
      }
      return kl;
    }
    int m = policy.actionDim();
    double[] params = new double[2 * m];
    policy.distributionParams(theta, obs, off, params);
    double[] a = new double[m];
    int[] node = new int[m];
    double kl = 0;
    for (int cell = 0; cell < Math.pow(NODES.length, m); cell++) {
      int c = cell;
      double w = 1;
      for (int j = 0; j < m; j++) {
        node[j] = c % NODES.length;
        c /= NODES.length;
        w *= WEIGHTS[node[j]];
        a[j] = params[j] + Math.exp(params[m + j]) * NODES[node[j]];
      }
      kl += w * (policy.logProb(theta, obs, off, a, 0) - policy.logProb(ref, refObs, off, a, 0));
    }
    return kl;
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(PolicySpec.Head.class)
  @DisplayName("fixed reference: the cost is λ KL(π_θ ‖ π_ref), not KL(π_ref ‖ π_θ); its gradient matches finite differences")
  void fixedReferenceCostIsTheForwardKl(PolicySpec.Head head) {
    MlpPolicy policy = policy(head);
    SplittableRandom rng = new SplittableRandom(17);
    double[] obs = randomVector(OBS * STATES, rng);
    double[] refObs = randomVector(OBS * STATES, rng);  // the reference's own normalization
    double[] ref = perturbed(policy.initialTheta(3), 0.8, 4);
    double[] theta = perturbed(ref, 1.2, 5);
    double lambda = 0.7;
    PolicyRegularizer kl = new PolicyRegularizer(policy, obs, STATES, 0, lambda, ref, refObs);
    PolicyRegularizer both = new PolicyRegularizer(policy, obs, STATES, 0.3, lambda, ref,
        refObs);
    double gap = 0;
    for (int i = 0; i < STATES; i++) {
      double forward = exactKl(policy, theta, obs, ref, refObs, i);
      double reverse = reverseKl(policy, theta, obs, ref, refObs, i);
      gap = Math.max(gap, Math.abs(forward - reverse) / forward);
      close("λ KL(π_θ ‖ π_ref) at x_" + i, lambda * forward, kl.cost(theta, i), 1e-10);
      final int state = i;
      double[] g = new double[theta.length];
      both.accumulateGradient(theta, i, 1.0, g);
      close("∇(-βH + λ KL) at x_" + i,
          ExactGradientFiniteDifferenceTest.fdGradient(t -> both.cost(t, state), theta), g,
          1e-6);
    }
    assertTrue(gap > 0.1, "the two directions differ here by up to " + gap + " (relative), so "
        + "the test tells them apart");
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(PolicySpec.Head.class)
  @DisplayName("proximal π̄ = π_θk: λ KL(π_θ ‖ π_θk) exactly, zero with zero gradient at θ_k")
  void proximalCostIsZeroWithZeroGradientAtThetaK(PolicySpec.Head head) {
    MlpPolicy policy = policy(head);
    SplittableRandom rng = new SplittableRandom(23);
    double[] obs = randomVector(OBS * STATES, rng);
    double[] thetaK = perturbed(policy.initialTheta(5), 0.6, 8);
    double[] theta = perturbed(thetaK, 0.9, 9);
    double lambda = 1.3;
    PolicyRegularizer kl = new PolicyRegularizer(policy, obs, STATES, 0, lambda, thetaK);
    for (int i = 0; i < STATES; i++) {
      close("λ KL(π_θ ‖ π_θk) at x_" + i, lambda * exactKl(policy, theta, obs, thetaK, obs, i),
          kl.cost(theta, i), 1e-10);
      final int state = i;
      double[] g = new double[theta.length];
      kl.accumulateGradient(theta, i, 1.0, g);
      close("∇ λ KL at x_" + i,
          ExactGradientFiniteDifferenceTest.fdGradient(t -> kl.cost(t, state), theta), g, 1e-6);
      close("KL(π_θk ‖ π_θk) at x_" + i, 0.0, kl.cost(thetaK, i), 1e-12);
      double[] g0 = new double[thetaK.length];
      kl.accumulateGradient(thetaK, i, 1.0, g0);
      close("∇KL at θ_k, x_" + i, new double[thetaK.length], g0, 1e-12);
    }
  }

  /** KL(π_ref ‖ π_θ), the direction the cost must not compute. */
  private static double reverseKl(MlpPolicy policy, double[] theta, double[] obs, double[] ref,
      double[] refObs, int i) {
    if (policy.spec().head() == PolicySpec.Head.CATEGORICAL) {
      double kl = 0;
      double[] a = new double[1];
      for (int k = 0; k < policy.spec().outputs(); k++) {
        a[0] = k;
        double logRef = policy.logProb(ref, refObs, i * OBS, a, 0);
        kl += Math.exp(logRef) * (logRef - policy.logProb(theta, obs, i * OBS, a, 0));
      }
      return kl;
    }
    int m = policy.actionDim();
    double[] p = new double[2 * m];
    double[] q = new double[2 * m];
    policy.distributionParams(theta, obs, i * OBS, p);
    policy.distributionParams(ref, refObs, i * OBS, q);
    double kl = 0;
    for (int j = 0; j < m; j++) {
      double d = q[j] - p[j];
      kl += p[m + j] - q[m + j]
          + 0.5 * (Math.exp(2 * q[m + j]) + d * d) * Math.exp(-2 * p[m + j]) - 0.5;
    }
    return kl;
  }
}
