package io.dsogym.collect;

import io.dsogym.chain.ChainBatch;
import io.dsogym.chain.StateCost;
import io.dsogym.chain.TransitionLikelihood;
import io.dsogym.dso.Algorithm1;
import io.dsogym.dso.Surrogate;
import io.dsogym.policy.MlpPolicy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The MDP of the exact-gradient tests of this package, as TabularChain-v0 kwargs: layers 0, 1, 2
 * of 3 cells, p0 on layer 0 (0.5, 0.3, 0.2); every action moves one layer on (random
 * transition tables), and from layer 2 into one of two terminal states. Every episode is
 * exactly 3 steps and terminates, so a batch of 3 steps per lane is one whole episode per lane.
 */
final class LayeredMdp {
  static final int LAYERS = 3;
  static final int CELLS = 3;
  static final int ACTIONS = 3;
  static final int STATES = LAYERS * CELLS + 2;

  private LayeredMdp() {}

  /**
   * Random tables from {@code rng}; with {@code rewards}, a reward in [−1, 1) drawn after each
   * (state, action)'s transitions, else rewards of 0.
   */
  static Map<String, Object> kwargs(SplittableRandom rng, boolean rewards) {
    double[][][] p = new double[STATES][ACTIONS][STATES];
    double[][] r = new double[STATES][ACTIONS];
    for (int s = 0; s < STATES; s++) {
      for (int a = 0; a < ACTIONS; a++) {
        if (s >= LAYERS * CELLS) {
          p[s][a][s] = 1;  // terminal: never stepped
          continue;
        }
        int layer = s / CELLS;
        int first = (layer + 1) * CELLS;
        int width = layer < LAYERS - 1 ? CELLS : 2;
        double sum = 0;
        for (int j = 0; j < width; j++) {
          p[s][a][first + j] = 0.05 + rng.nextDouble();
          sum += p[s][a][first + j];
        }
        for (int j = 0; j < width; j++) {
          p[s][a][first + j] /= sum;
        }
        if (rewards) {
          r[s][a] = -1 + 2 * rng.nextDouble();
        }
      }
    }
    Map<String, Object> kwargs = new LinkedHashMap<>();
    kwargs.put("transitions", p);
    kwargs.put("rewards", r);
    kwargs.put("initial", new double[] {0.5, 0.3, 0.2, 0, 0, 0, 0, 0, 0, 0, 0});
    kwargs.put("terminal", List.of((double) STATES - 2, (double) STATES - 1));
    return kwargs;
  }

  /** π(a|s) of a linear softmax policy on one-hot states, as a table. */
  static double[][] policyTable(MlpPolicy policy, double[] theta) {
    double[][] pi = new double[STATES][ACTIONS];
    double[] logits = new double[ACTIONS];
    for (int s = 0; s < STATES; s++) {
      double[] x = new double[STATES];
      x[s] = 1;
      policy.distributionParams(theta, x, 0, logits);
      double max = Math.max(logits[0], Math.max(logits[1], logits[2]));
      double sum = 0;
      for (int a = 0; a < ACTIONS; a++) {
        pi[s][a] = Math.exp(logits[a] - max);
        sum += pi[s][a];
      }
      for (int a = 0; a < ACTIONS; a++) {
        pi[s][a] /= sum;
      }
    }
    return pi;
  }

  /** The state whose one-hot observation is transition {@code i}'s in {@code obs}. */
  static int state(double[] obs, int i) {
    for (int s = 0; s < STATES; s++) {
      if (obs[i * STATES + s] == 1.0) {
        return s;
      }
    }
    throw new AssertionError("observation " + i + " is not one-hot");
  }

  /**
   * The trainer's per-transition weights of a batch of whole episodes, with V̂ the exact
   * {@code values}: Algorithm 1's advantages (λ = 1, no normalization) and γ^t state weights,
   * each divided by the batch size as the trainer divides them.
   *
   * @return {advantage, stateWeight}
   */
  static double[][] weights(ChainBatch batch, double[] values, double gamma) {
    int n = batch.size();
    double[] value = new double[n];
    double[] nextValue = new double[n];
    for (int i = 0; i < n; i++) {
      value[i] = values[state(batch.steps().obs, i)];
      nextValue[i] = batch.steps().terminated[i] ? 0 : values[state(batch.steps().nextObs, i)];
    }
    Algorithm1.Options options = new Algorithm1.Options(Algorithm1.Setting.DISCOUNTED, gamma,
        1.0, true);
    double[] w = new double[n];
    double[] targets = new double[n];
    Algorithm1.weights(batch.steps(), value, nextValue, options, 0.0, w, targets);
    double[] advantage = new double[n];
    double[] stateWeight = new double[n];
    for (int i = 0; i < n; i++) {
      advantage[i] = w[i] / n;
      stateWeight[i] = Algorithm1.stateWeight(batch.steps(), i, options) / n;
    }
    return new double[][] {advantage, stateWeight};
  }

  /**
   * One episode's estimate of ∇J from a batch of one whole episode per lane: the surrogate's
   * gradient at θ over {@code transitions} and {@code cost} (null: none), times n / lanes.
   */
  static double[] episodeGradient(TransitionLikelihood transitions, StateCost cost,
      double[] theta, double[][] weights, int lanes) {
    int n = transitions.size();
    Surrogate surrogate = new Surrogate(transitions, cost, theta, weights[0], weights[1]);
    double[] g = new double[theta.length];
    surrogate.gradientAtStart(g);
    for (int k = 0; k < theta.length; k++) {
      g[k] *= (double) n / lanes;
    }
    return g;
  }
}
