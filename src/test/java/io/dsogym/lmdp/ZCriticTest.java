package io.dsogym.lmdp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.chain.ChainBatch;
import io.dsogym.oracle.KnownChainSource;
import io.dsogym.oracle.LmdpChain;
import io.dsogym.oracle.LmdpExact;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Z-learning as the trainer's critic (docs/math.md §5), on the trainer's own batches: a
 * {@link KnownChainSource} over ZLearningTest's 7-state walk, sampled by the controlled chain at
 * a θ away from the passive dynamics. The learned V̂ = −ln ẑ must reach the exact
 * V* = −ln z of {@link LmdpExact} within ZLearningTest's tolerance (4 standard errors from each
 * state's updates), which is possible only with the importance weights p/P(·|·,θ): the same
 * batches learned as if on-chain miss by far more. The values it hands Algorithm 1 are −ln ẑ of
 * each recorded state, and 0 after a terminal one.
 */
class ZCriticTest {
  @Test
  void learnsVStarFromTheTrainersOffChainBatches() {
    LmdpChain lmdp = ZLearningTest.walk();
    int n = lmdp.numStates();
    double[] theta = new double[lmdp.numParams()];
    SplittableRandom thetaRng = new SplittableRandom(11);
    for (int i = 0; i < theta.length; i++) {
      theta[i] = 0.5 * thetaRng.nextGaussian();
    }
    ZCritic critic = new ZCritic(lmdp, new ZLearning(lmdp, 5, 1.0));
    ZLearning unweighted = new ZLearning(lmdp, 5, 1.0);
    try (KnownChainSource<Integer> source = new KnownChainSource<>(lmdp,
        x -> KnownChainSource.oneHot(x, n), n, 20, 1)) {
      double[][] behaviour = lmdp.transitionMatrix(theta);
      for (int k = 0; k < 40; k++) {
        ChainBatch batch = source.collect(theta, 1_000);
        double[] v = new double[batch.size()];
        double[] vNext = new double[batch.size()];
        critic.values(batch, v, vNext);
        double[] value = critic.learner().value();
        for (int i = 0; i < batch.size(); i++) {
          int x = state(batch.features(), n, i);
          assertEquals(value[x], v[i], 0.0);
          if (batch.steps().terminated[i]) {
            assertEquals(0.0, vNext[i], 0.0);
          } else {
            assertEquals(value[state(batch.nextFeatures(), n, i)], vNext[i], 0.0);
            unweighted.update(x, state(batch.nextFeatures(), n, i));
          }
        }
        critic.learn(batch, theta);
      }
      double[] z = LmdpExact.optimal(lmdp).desirability;
      double tol = ZLearningTest.tolerance(lmdp, behaviour, critic.learner().visits(), z);
      double worst = maxRelativeError(critic.learner().desirability(), z);
      double worstUnweighted = maxRelativeError(unweighted.desirability(), z);
      assertTrue(critic.learner().updates() > 700_000, "updates " + critic.learner().updates());
      assertTrue(tol < 0.06, "the tolerance must still say something, got " + tol);
      assertTrue(worst <= tol, "max relative error " + worst + " > " + tol);
      assertTrue(worstUnweighted > 5 * tol, "without the weights the error must show: "
          + worstUnweighted + " against tolerance " + tol);
    }
  }

  private static double maxRelativeError(double[] estimate, double[] z) {
    double worst = 0;
    for (int x = 0; x < z.length; x++) {
      worst = Math.max(worst, Math.abs(estimate[x] - z[x]) / z[x]);
    }
    return worst;
  }

  private static int state(double[] oneHot, int n, int i) {
    for (int s = 0; s < n; s++) {
      if (oneHot[i * n + s] == 1.0) {
        return s;
      }
    }
    throw new AssertionError("transition " + i + " has no one-hot state");
  }
}
