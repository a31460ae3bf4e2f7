package io.dsogym.collect;

import io.dsogym.chain.StateCost;
import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.chain.TransitionLikelihood;
import io.dsogym.env.ParametricSystem;
import java.util.Arrays;

/**
 * What θ's system part adds to a batch (docs/math.md §10): the transition x_i -(a_i)-> x'_i is
 * explained by ln π(a_i|x_i,θ_π) + ln p(x'_i|x_i,a_i,φ), so its score gains ∇φ ln p, and the
 * step cost ℓ(x_i,a_i,x'_i,φ) becomes a θ-dependent {@link StateCost} with gradient ∇φ ℓ. The
 * system reads the recorded observations as the env gave them (one-hot for a Discrete one), not
 * the normalized ones the policy reads.
 */
final class SystemTerms {
  private SystemTerms() {}

  static TransitionLikelihood transitions(TransitionLikelihood policyPart,
      ParametricSystem system, SystemParameters params, TrajectoryBatch batch) {
    double[] fullGrad = new double[params.fullSize()];
    int d = batch.obsDim;
    int k = batch.actionDim;
    return new TransitionLikelihood() {
      @Override
      public int size() {
        return policyPart.size();
      }

      @Override
      public int numParams() {
        return params.policyParams() + params.size();
      }

      @Override
      public double logLikelihood(double[] theta, int i) {
        return policyPart.logLikelihood(theta, i) + system.transitionLogDensity(batch.obs,
            i * d, batch.actions, i * k, batch.nextObs, i * d, params.phi(theta));
      }

      @Override
      public double accumulateScore(double[] theta, int i, double weight, double[] grad) {
        double logPi = policyPart.accumulateScore(theta, i, weight, grad);
        Arrays.fill(fullGrad, 0);
        double logP = system.accumulateTransitionScore(batch.obs, i * d, batch.actions, i * k,
            batch.nextObs, i * d, params.phi(theta), weight, fullGrad, 0);
        params.scatter(fullGrad, grad);
        return logPi + logP;
      }
    };
  }

  static StateCost cost(ParametricSystem system, SystemParameters params,
      TrajectoryBatch batch) {
    double[] fullGrad = new double[params.fullSize()];
    int d = batch.obsDim;
    int k = batch.actionDim;
    return new StateCost() {
      @Override
      public double cost(double[] theta, int i) {
        return system.stepCost(batch.obs, i * d, batch.actions, i * k, batch.nextObs, i * d,
            params.phi(theta));
      }

      @Override
      public double accumulateGradient(double[] theta, int i, double weight, double[] grad) {
        Arrays.fill(fullGrad, 0);
        double cost = system.accumulateCostGradient(batch.obs, i * d, batch.actions, i * k,
            batch.nextObs, i * d, params.phi(theta), weight, fullGrad, 0);
        params.scatter(fullGrad, grad);
        return cost;
      }
    };
  }
}
