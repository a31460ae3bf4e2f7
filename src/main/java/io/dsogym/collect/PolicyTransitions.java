package io.dsogym.collect;

import io.dsogym.chain.TransitionLikelihood;

import io.dsogym.policy.Policy;

/**
 * The sampled-action route (docs/math.md §2c route 2, §4b): transition i is explained by the action
 * a_i the policy drew at x_i, so ln P(x'_i|x_i,θ) is replaced by ln π(a_i|x_i,θ) and the ratio
 * r_i is the PPO ratio. Observations are the normalized ones the policy saw.
 */
public final class PolicyTransitions implements TransitionLikelihood {
  private final Policy policy;
  private final double[] obs;
  private final double[] actions;
  private final int size;

  /**
   * @param obs normalized observations, {@code size * policy.obsDim()} values
   * @param actions the recorded actions, {@code size * policy.actionDim()} values
   */
  public PolicyTransitions(Policy policy, double[] obs, double[] actions, int size) {
    if (obs.length < size * policy.obsDim() || actions.length < size * policy.actionDim()) {
      throw new IllegalArgumentException("obs/actions: expected room for " + size
          + " transitions, got " + obs.length + " and " + actions.length + " values");
    }
    this.policy = policy;
    this.obs = obs;
    this.actions = actions;
    this.size = size;
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public int numParams() {
    return policy.numParams();
  }

  @Override
  public double logLikelihood(double[] theta, int i) {
    return policy.logProb(theta, obs, i * policy.obsDim(), actions, i * policy.actionDim());
  }

  @Override
  public double accumulateScore(double[] theta, int i, double weight, double[] grad) {
    return policy.accumulateScore(theta, obs, i * policy.obsDim(), actions,
        i * policy.actionDim(), weight, grad);
  }

  @Override
  public void logLikelihoods(double[] theta, int[] index, int from, int to, double[] out) {
    policy.logProbs(theta, obs, actions, index, from, to, out);
  }

  @Override
  public void accumulateScores(double[] theta, int[] index, int from, int to,
      double[] weight, double[] grad) {
    policy.accumulateScores(theta, obs, actions, index, from, to, weight, grad, null);
  }

  @Override
  public void accumulateWeightedScores(double[] theta, int[] index, int from, int to,
      ScoreWeight weight, double[] logOut, double[] grad) {
    policy.accumulateWeightedScores(theta, obs, actions, index, from, to, weight::of, logOut,
        grad);
  }
}
