package io.dsogym.dso;

import io.dsogym.chain.StateCost;
import io.dsogym.policy.Policy;
import io.dsogym.policy.PolicySpec;

/**
 * A chain cost on a Gaussian policy's mean outside the action Box, at the recorded states:
 * <pre>
 *   L_bound(x,θ) = κ Σ_j ( max(0, μ_j(x,θ) - high_j)² + max(0, low_j - μ_j(x,θ))² )
 * </pre>
 * Actions are clipped only at the env, so a mean several σ beyond a bound makes every sample
 * the same action: the sampled gradient then carries no signal about the mean there, and it
 * can stay stuck (on Pendulum, a mean of 2.7-3.6 with σ 0.23-0.33 holds the pendulum at
 * |θ| ≈ 2.7 with the saturated torque 2 for the whole episode; docs/results.md). The cost is
 * zero inside the Box, so it leaves a policy that respects the bounds unchanged. Infinite
 * bounds cost nothing.
 */
public final class ActionBoundCost implements StateCost {
  private final Policy policy;
  private final double[] obs;
  private final int obsDim;
  private final double coef;
  private final double[] low;
  private final double[] high;
  private final double[] params;
  private final double[] dParams;

  /**
   * @param obs the normalized observations at which the cost is evaluated
   * @param coef κ > 0
   * @param low the Box's lower bounds, one per action dimension
   * @param high the Box's upper bounds
   */
  public ActionBoundCost(Policy policy, double[] obs, double coef, double[] low, double[] high) {
    if (policy.spec().head() != PolicySpec.Head.GAUSSIAN) {
      throw new IllegalArgumentException("bound-coef: expected a Gaussian policy (a Box action "
          + "space), got a " + policy.spec().head() + " head");
    }
    int m = policy.spec().outputs();
    if (low.length != m || high.length != m) {
      throw new IllegalArgumentException("action bounds: expected " + m + " low and high "
          + "values (the policy's outputs), got " + low.length + " and " + high.length);
    }
    if (!(coef > 0)) {
      throw new IllegalArgumentException("bound-coef: expected > 0, got " + coef);
    }
    this.policy = policy;
    this.obs = obs;
    this.obsDim = policy.obsDim();
    this.coef = coef;
    this.low = low.clone();
    this.high = high.clone();
    this.params = new double[2 * m];
    this.dParams = new double[2 * m];
  }

  @Override
  public double cost(double[] theta, int i) {
    policy.distributionParams(theta, obs, i * obsDim, params);
    return bound(i, params, null);
  }

  @Override
  public double accumulateGradient(double[] theta, int i, double weight, double[] grad) {
    policy.distributionParams(theta, obs, i * obsDim, params);
    double c = bound(i, params, dParams);
    policy.accumulateParamsGradient(theta, obs, i * obsDim, dParams, weight, grad);
    return c;
  }

  @Override
  public void accumulateGradients(double[] theta, int[] order, int from, int to,
      double[] weight, double[] grad, double[] costs) {
    policy.accumulateParamsFunction(theta, obs, order, from, to, this::bound, weight, grad,
        costs);
  }

  /** The cost at the distribution parameters p; unless d is null, its derivative in them. */
  private double bound(int i, double[] p, double[] d) {
    double c = 0;
    int m = low.length;
    for (int j = 0; j < m; j++) {
      double mean = p[j];
      // NaN-free for infinite bounds: mean - ∞ < 0 and -∞ - mean < 0 give 0
      double excess = mean > high[j] ? mean - high[j] : mean < low[j] ? mean - low[j] : 0;
      c += excess * excess;
      if (d != null) {
        d[j] = 2 * coef * excess;
        d[m + j] = 0;  // the cost ignores σ
      }
    }
    return coef * c;
  }
}
