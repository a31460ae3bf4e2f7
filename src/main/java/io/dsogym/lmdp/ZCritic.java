package io.dsogym.lmdp;

import io.dsogym.chain.ChainBatch;
import io.dsogym.dso.Critic;
import io.dsogym.oracle.LmdpChain;

/**
 * Z-learning as the trainer's critic (docs/math.md §5): V̂ = −ln ẑ, learned off-chain from the
 * trainer's own batches, which the current chain P(·|·,θ_k) sampled, each target weighted by
 * p/P(·|·,θ_k). ẑ estimates the optimal desirability, so V̂ is V* rather than V^θ: a baseline
 * that becomes exact as θ reaches the optimum. The batch's features must be one-hot states.
 */
public final class ZCritic implements Critic {
  private final LmdpChain chain;
  private final ZLearning z;

  public ZCritic(LmdpChain chain, ZLearning z) {
    this.chain = chain;
    this.z = z;
  }

  /** The Z-learner (its visits, its ẑ). */
  public ZLearning learner() {
    return z;
  }

  @Override
  public void values(ChainBatch batch, double[] v, double[] vNext) {
    double[] value = z.value();
    for (int i = 0; i < batch.size(); i++) {
      v[i] = value[state(batch.features(), batch.featureDim(), i)];
      vNext[i] = batch.steps().terminated[i] ? 0
          : value[state(batch.nextFeatures(), batch.featureDim(), i)];
    }
  }

  @Override
  public void learn(ChainBatch batch, double[] thetaK) {
    double[][] behaviour = chain.transitionMatrix(thetaK);
    double[][] passive = chain.passive();
    for (int i = 0; i < batch.size(); i++) {
      if (batch.steps().terminated[i]) {
        continue;  // a terminal state is recorded with no transition
      }
      int x = state(batch.features(), batch.featureDim(), i);
      int y = state(batch.nextFeatures(), batch.featureDim(), i);
      z.update(x, y, passive[x][y] / behaviour[x][y]);
    }
  }

  private static int state(double[] oneHot, int n, int i) {
    for (int s = 0; s < n; s++) {
      if (oneHot[i * n + s] == 1.0) {
        return s;
      }
    }
    throw new IllegalArgumentException("features of transition " + i + ": expected a one-hot "
        + "state of " + n + " values, got none set");
  }
}
