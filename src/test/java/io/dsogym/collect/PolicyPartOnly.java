package io.dsogym.collect;

import io.dsogym.chain.TransitionLikelihood;

/**
 * A deliberately wrong estimator for the tests of θ in the system: the policy's score alone,
 * over the whole θ = (θ_π, φ), as if p did not depend on φ.
 */
final class PolicyPartOnly implements TransitionLikelihood {
  private final PolicyTransitions policyPart;
  private final int numParams;

  PolicyPartOnly(PolicyTransitions policyPart, int numParams) {
    this.policyPart = policyPart;
    this.numParams = numParams;
  }

  @Override
  public int size() {
    return policyPart.size();
  }

  @Override
  public int numParams() {
    return numParams;
  }

  @Override
  public double logLikelihood(double[] theta, int i) {
    return policyPart.logLikelihood(theta, i);
  }

  @Override
  public double accumulateScore(double[] theta, int i, double weight, double[] grad) {
    return policyPart.accumulateScore(theta, i, weight, grad);
  }
}
