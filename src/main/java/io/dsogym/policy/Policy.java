package io.dsogym.policy;

import java.util.SplittableRandom;

/**
 * A stochastic policy pi(a|x, theta) over flat (already normalized) observation vectors, with
 * every parameter in one flat {@code theta}. The MDP -> chain mapping of docs/math.md §2a
 * marginalizes it; its score grad ln pi(a|x) is the sampled-action score of docs/math.md §2c
 * route 2.
 *
 * <p>Observations and actions are passed as (array, offset) so that a whole batch can live in
 * one flat array. An action is {@link #actionDim()} doubles: the index for a discrete policy,
 * the unclipped sample for a Gaussian one (clipping happens only at the env, so ln pi is of
 * the unclipped sample). Instances keep scratch buffers: they are not thread-safe, and no
 * method allocates.
 */
public interface Policy {
  PolicySpec spec();

  default int obsDim() {
    return spec().obsDim();
  }

  default int actionDim() {
    return spec().actionDim();
  }

  default int numParams() {
    return spec().numParams();
  }

  /** A fresh parameter vector (deterministic in the seed). */
  double[] initialTheta(long seed);

  /** Samples a ~ pi(.|x) into {@code action[aOff..]} and returns ln pi(a|x). */
  double sample(double[] theta, double[] x, int xOff, SplittableRandom rng, double[] action,
      int aOff);

  /** ln pi(a|x, theta). */
  double logProb(double[] theta, double[] x, int xOff, double[] action, int aOff);

  /** grad += weight * grad_theta ln pi(a|x, theta); returns ln pi(a|x, theta). */
  double accumulateScore(double[] theta, double[] x, int xOff, double[] action, int aOff,
      double weight, double[] grad);

  /**
   * logProb[k - from] = ln π(a_i|x_i, θ) for i = index[k], k in [from, to), with x_i and a_i
   * the i-th rows of obs and actions: a (shuffled) minibatch in one call, which a network
   * evaluates as matrix products.
   */
  default void logProbs(double[] theta, double[] obs, double[] actions, int[] index, int from,
      int to, double[] logProb) {
    for (int k = from; k < to; k++) {
      int i = index[k];
      logProb[k - from] = logProb(theta, obs, i * obsDim(), actions, i * actionDim());
    }
  }

  /**
   * grad += Σ_k weight[k - from] · ∇θ ln π(a_i|x_i, θ) for i = index[k], k in [from, to)
   * (rows as in {@link #logProbs}); logProb[k - from] = ln π(a_i|x_i, θ) unless logProb is
   * null.
   */
  default void accumulateScores(double[] theta, double[] obs, double[] actions, int[] index,
      int from, int to, double[] weight, double[] grad, double[] logProb) {
    for (int k = from; k < to; k++) {
      int i = index[k];
      double logp = accumulateScore(theta, obs, i * obsDim(), actions, i * actionDim(),
          weight[k - from], grad);
      if (logProb != null) {
        logProb[k - from] = logp;
      }
    }
  }

  /** A row's score weight given its ln π, for {@link #accumulateWeightedScores}. */
  @FunctionalInterface
  interface RowWeight {
    /** The weight of the score of the row at place k of the index. */
    double of(int k, double logProb);
  }

  /**
   * logProb[k - from] = ln π(a_i|x_i, θ) for i = index[k], k in [from, to) (rows as in {@link
   * #logProbs}), then grad += Σ_k w_k · ∇θ ln π(a_i|x_i, θ) with w_k = weight.of(k, ln π),
   * called in the order of k. By default {@link #logProbs} then {@link #accumulateScores}
   * (allocating the weights per call); a network makes one forward pass.
   */
  default void accumulateWeightedScores(double[] theta, double[] obs, double[] actions,
      int[] index, int from, int to, RowWeight weight, double[] logProb, double[] grad) {
    logProbs(theta, obs, actions, index, from, to, logProb);
    double[] w = new double[to - from];
    for (int k = from; k < to; k++) {
      w[k - from] = weight.of(k, logProb[k - from]);
    }
    accumulateScores(theta, obs, actions, index, from, to, w, grad, null);
  }

  /** The deterministic action used for evaluation: the argmax (discrete) or the mean. */
  void mode(double[] theta, double[] x, int xOff, double[] action, int aOff);

  /**
   * The distribution's parameters at x: the logits (discrete, {@code spec().outputs()} values)
   * or the means followed by the log standard deviations (Gaussian, 2 * actionDim values).
   * These are what the numpy policy of the Python worker must reproduce.
   */
  void distributionParams(double[] theta, double[] x, int xOff, double[] out);

  /**
   * grad += weight · ∇θ f, for a function f of the {@link #distributionParams} at x given its
   * partial derivatives {@code dParams} (same layout). How costs built on the action
   * distribution (entropy, KL: docs/math.md §2e/§2f) get their θ-gradient.
   */
  void accumulateParamsGradient(double[] theta, double[] x, int xOff, double[] dParams,
      double weight, double[] grad);

  /** The length of {@link #distributionParams}: the logits, or the means and log σ. */
  default int paramsWidth() {
    return spec().head() == PolicySpec.Head.CATEGORICAL ? spec().outputs()
        : 2 * spec().outputs();
  }

  /**
   * A function f_i of the distribution parameters at recorded state i: a cost built on
   * π(·|x_i) (action bounds, entropy, KL), evaluated a minibatch at a time by {@link
   * #accumulateParamsFunction}.
   */
  @FunctionalInterface
  interface ParamsFunction {
    /**
     * f_i at {@code params} ({@link #distributionParams}' layout); unless {@code dParams} is
     * null, writes ∂f_i/∂params into it (the same layout).
     */
    double apply(int i, double[] params, double[] dParams);
  }

  /**
   * values[k - from] = f_i(params(x_i, θ)) for i = index[k], k in [from, to) (rows of obs as
   * in {@link #logProbs}), and unless grad is null, grad += Σ_k weight[k - from] · ∇θ f_i
   * (weight is not read when grad is null).
   * A network does it in one forward and one backward pass per block of rows; by default it
   * is one state at a time (allocating its two row buffers per call).
   */
  default void accumulateParamsFunction(double[] theta, double[] obs, int[] index, int from,
      int to, ParamsFunction f, double[] weight, double[] grad, double[] values) {
    double[] params = new double[paramsWidth()];
    double[] dParams = grad == null ? null : new double[paramsWidth()];
    for (int k = from; k < to; k++) {
      int i = index[k];
      distributionParams(theta, obs, i * obsDim(), params);
      values[k - from] = f.apply(i, params, dParams);
      if (grad != null) {
        accumulateParamsGradient(theta, obs, i * obsDim(), dParams, weight[k - from], grad);
      }
    }
  }
}
