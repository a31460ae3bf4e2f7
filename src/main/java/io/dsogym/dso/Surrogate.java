package io.dsogym.dso;

import io.dsogym.chain.StateCost;
import io.dsogym.chain.TransitionLikelihood;

import java.util.Arrays;

/**
 * The sample-based surrogate of docs/math.md §4b, built from transitions recorded under θ_k:
 * <pre>
 *   S̃(θ) = Σ_i [ κ_i (L(x_i,θ) - L(x_i,θ_k)) + A_i (r_i(θ) - 1) ],   r_i = P(x'_i|x_i,θ) / P(x'_i|x_i,θ_k)
 * </pre>
 * where A_i is the (already discounted and averaged) score weight of Algorithm 1, so that
 * ∇S̃(θ_k) is exactly Algorithm 1's estimate (Lemma 2), and S̃(θ) ≈ J(θ) - J(θ_k) to first
 * order (§4a). With a clip ε > 0 the ratio term is PCO's pessimistic one for costs (§4d):
 * max(r A, clip(r, 1-ε, 1+ε) A).
 *
 * <p>Sums run over all transitions, or over a minibatch scaled by N/|B| so that it estimates the
 * same S̃. The ratio route is the {@link TransitionLikelihood}'s; the θ-dependent cost is a
 * {@link StateCost}. Beyond value and gradient the surrogate gives the two curvature operators
 * of §4: the chain Fisher (natural gradient, §4e) and the surrogate Hessian (Chain Iteration,
 * §4c/§4f), both as matrix-vector products, never as matrices.
 */
public final class Surrogate {
  private final TransitionLikelihood model;
  private final StateCost cost;
  private final double[] thetaK;
  private final double[] advantage;
  private final double[] stateWeight;
  /** ln P under θ_k, filled on the first use of a ratio (a plain gradient step needs none). */
  private final double[] logOld;
  private boolean logOldReady;
  /**
   * ln P under the policy that sampled the transitions when that was not θ_k (collect-ahead,
   * {@link #withBehaviour}): the ratios' denominator. Null: the transitions are on-chain.
   */
  private double[] logBehaviour;
  /** S̃(θ_k), cached by {@link #valueAtStart}; NaN until then. */
  private double valueAtStart = Double.NaN;
  private final double[] costOld;
  private final double stateWeightSum;
  private final int n;
  private final int[] all;
  private final double[] score;
  private final double[] gradPlus;
  private final double[] gradMinus;
  private final double[] probe;
  /** ln P of a minibatch, evaluated in one call (matrix products). */
  private final double[] logBuf;
  /** A minibatch's κ_i · N/|B| and L(x_i,θ). */
  private final double[] kappaBuf;
  private final double[] costBuf;

  /**
   * @param thetaK the parameters the transitions were recorded under
   * @param advantage A_i, the weight of transition i's ratio (Algorithm 1's w_i over N)
   * @param stateWeight κ_i, the weight of state x_i's cost (and of its KL and Fisher terms)
   */
  public Surrogate(TransitionLikelihood model, StateCost cost, double[] thetaK,
      double[] advantage, double[] stateWeight) {
    this(model, cost, thetaK, advantage, stateWeight, null);
  }

  /**
   * @param costAtStart L(x_i,θ_k) of {@code cost} for every transition when the caller has it
   *     already (the trainer adds it to the chain cost), so it is not evaluated twice; null:
   *     computed here
   */
  public Surrogate(TransitionLikelihood model, StateCost cost, double[] thetaK,
      double[] advantage, double[] stateWeight, double[] costAtStart) {
    this.n = model.size();
    if (thetaK.length != model.numParams()) {
      throw new IllegalArgumentException("thetaK: expected " + model.numParams()
          + " parameters, got " + thetaK.length);
    }
    if (advantage.length < n || stateWeight.length < n) {
      throw new IllegalArgumentException("advantage/stateWeight: expected " + n
          + " values each, got " + advantage.length + " and " + stateWeight.length);
    }
    if (costAtStart != null && costAtStart.length < n) {
      throw new IllegalArgumentException("costAtStart: expected " + n + " values, got "
          + costAtStart.length);
    }
    this.model = model;
    this.cost = cost == null ? StateCost.NONE : cost;
    this.thetaK = thetaK.clone();
    this.advantage = Arrays.copyOf(advantage, n);
    this.stateWeight = Arrays.copyOf(stateWeight, n);
    this.logOld = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += stateWeight[i];
    }
    if (!(sum > 0)) {
      throw new IllegalArgumentException("stateWeight: expected a positive total, got " + sum);
    }
    this.stateWeightSum = sum;
    this.all = new int[n];
    Arrays.setAll(all, i -> i);
    this.costOld = costAtStart != null ? Arrays.copyOf(costAtStart, n) : new double[n];
    if (costAtStart == null) {
      this.cost.accumulateGradients(this.thetaK, all, 0, n, null, null, costOld);
    }
    int p = model.numParams();
    this.score = new double[p];
    this.gradPlus = new double[p];
    this.gradMinus = new double[p];
    this.probe = new double[p];
    this.logBuf = new double[n];
    this.kappaBuf = new double[n];
    this.costBuf = new double[n];
  }

  public int size() {
    return n;
  }

  /**
   * Declares the transitions off-chain (docs/math.md §4b): they were sampled under an earlier
   * policy, whose ln P of each recorded transition is {@code logProb}, not under θ_k. The
   * ratios become r_i(θ) = P_θ / P_behaviour, so S̃ and its gradient are importance-weighted
   * (at θ_k the gradient is Algorithm 1's estimate weighted by r_i(θ_k)), and PCO's clip
   * bounds the ratio to the behaviour policy. The trust-region measures ({@link #meanKl}, the
   * Fisher) stay centred on θ_k: they bound how far one update moves the policy.
   *
   * @return this
   */
  public Surrogate withBehaviour(double[] logProb) {
    if (logProb.length < n) {
      throw new IllegalArgumentException("behaviour ln P: expected " + n + " values, got "
          + logProb.length);
    }
    for (int i = 0; i < n; i++) {
      if (!Double.isFinite(logProb[i])) {
        throw new IllegalArgumentException("behaviour ln P[" + i + "]: expected a finite "
            + "value, got " + logProb[i]);
      }
    }
    logBehaviour = Arrays.copyOf(logProb, n);
    valueAtStart = Double.NaN;
    return this;
  }

  /** Whether {@link #withBehaviour} declared the transitions off-chain. */
  public boolean offChain() {
    return logBehaviour != null;
  }

  private void ensureLogOld() {
    if (!logOldReady) {
      model.logLikelihoods(thetaK, all, 0, n, logOld);
      logOldReady = true;
    }
  }

  /**
   * grad = ∇S̃(θ_k) = Σ A_i ∇ln P_i + Σ κ_i ∇L_i: Algorithm 1's estimate (Lemma 2). Every
   * ratio is 1 at θ_k, so this is one score pass, with no likelihood evaluated. Off-chain
   * ({@link #withBehaviour}) the ratios at θ_k are not 1 and weight each score.
   */
  public void gradientAtStart(double[] grad) {
    if (logBehaviour != null) {
      gradient(thetaK, grad);
      return;
    }
    Arrays.fill(grad, 0);
    cost.accumulateGradients(thetaK, all, 0, n, stateWeight, grad, costBuf);
    model.accumulateScores(thetaK, all, 0, n, advantage, grad);
  }

  /**
   * S̃(θ_k), the reference of every acceptance test and reported change (docs/math.md §4b):
   * ΔS̃ = S̃(θ) - S̃(θ_k). On-chain it is 0 (every ratio is 1 and the cost difference
   * vanishes); off-chain ({@link #withBehaviour}) it is Σ A_i (r_i(θ_k) - 1), not 0 in general.
   * Evaluated once, by {@link #value} at θ_k, so that it compares exactly with later values.
   */
  public double valueAtStart() {
    if (Double.isNaN(valueAtStart)) {
      valueAtStart = value(thetaK);
    }
    return valueAtStart;
  }

  /** S̃(θ) over every transition, without clipping. */
  public double value(double[] theta) {
    return evaluate(theta, all, 0, n, 0.0, null, null);
  }

  /** grad = ∇S̃(θ) over every transition, without clipping; returns S̃(θ). */
  public double gradient(double[] theta, double[] grad) {
    Arrays.fill(grad, 0);
    return evaluate(theta, all, 0, n, 0.0, grad, null);
  }

  /**
   * grad = ∇ of S̃ over the minibatch {@code order[from..to)} (scaled by N/|B|), with PCO's
   * pessimistic clip when {@code clip > 0}; returns the minibatch S̃.
   *
   * @param clippedOut if non-null, clippedOut[0] receives the fraction of the minibatch whose
   *     ratio term was clipped (zero gradient)
   */
  public double gradient(double[] theta, int[] order, int from, int to, double clip,
      double[] grad, double[] clippedOut) {
    Arrays.fill(grad, 0);
    return evaluate(theta, order, from, to, clip, grad, clippedOut);
  }

  private double evaluate(double[] theta, int[] order, int from, int to, double clip,
      double[] grad, double[] clippedOut) {
    if (to <= from) {
      throw new IllegalArgumentException("minibatch: expected a non-empty range, got [" + from
          + ", " + to + ")");
    }
    double[] logDenominator = logBehaviour;
    if (logDenominator == null) {
      ensureLogOld();
      logDenominator = logOld;
    }
    double scale = (double) n / (to - from);
    for (int k = from; k < to; k++) {
      kappaBuf[k - from] = stateWeight[order[k]] * scale;
    }
    cost.accumulateGradients(theta, order, from, to, kappaBuf, grad, costBuf);
    Terms terms = new Terms(order, from, scale, clip, logDenominator);
    if (grad == null) {
      model.logLikelihoods(theta, order, from, to, logBuf);
      for (int k = from; k < to; k++) {
        terms.scoreWeight(k, logBuf[k - from]);
      }
    } else {
      model.accumulateWeightedScores(theta, order, from, to, terms::scoreWeight, logBuf, grad);
    }
    if (clippedOut != null) {
      clippedOut[0] = (double) terms.clipped / (to - from);
    }
    return terms.sum;
  }

  /** A minibatch's terms of S̃, added up transition by transition as their ln P arrive. */
  private final class Terms {
    private final int[] order;
    private final int from;
    private final double scale;
    private final double clip;
    private final double[] logDenominator;
    double sum;
    int clipped;

    Terms(int[] order, int from, double scale, double clip, double[] logDenominator) {
      this.order = order;
      this.from = from;
      this.scale = scale;
      this.clip = clip;
      this.logDenominator = logDenominator;
    }

    /** Adds transition order[k]'s term; returns the weight of its score (0 when clipped). */
    double scoreWeight(int k, double logLikelihood) {
      int i = order[k];
      double a = advantage[i] * scale;
      double r = Math.exp(logLikelihood - logDenominator[i]);
      double term = r * a;
      boolean active = true;
      if (clip > 0) {
        double clippedTerm = Math.min(Math.max(r, 1 - clip), 1 + clip) * a;
        if (clippedTerm > term) {  // pessimistic for a cost: the larger one, constant in θ
          term = clippedTerm;
          active = false;
          clipped++;
        }
      }
      sum += kappaBuf[k - from] * (costBuf[k - from] - costOld[i]) + term - a;
      return active ? a * r : 0.0;
    }
  }

  /**
   * The sampled chain KL E_ρ KL(P_θk ‖ P_θ), estimated from the recorded transitions with the
   * unbiased, nonnegative (r - 1) - ln r, weighted by κ and normalized by Σκ (r = P_θ/P_θk,
   * off-chain too: there the transitions come from the behaviour policy, not P_θk, so the
   * estimate is slightly biased; it only guards the step size).
   */
  public double meanKl(double[] theta) {
    ensureLogOld();
    model.logLikelihoods(theta, all, 0, n, logBuf);
    double s = 0;
    for (int i = 0; i < n; i++) {
      double logRatio = logBuf[i] - logOld[i];
      s += stateWeight[i] * (Math.expm1(logRatio) - logRatio);
    }
    return s / stateWeightSum;
  }

  /**
   * out = F v, the chain Fisher at θ_k (docs/math.md §4e) from the recorded scores:
   * F = Σ κ_i s_i s_iᵀ / Σκ, the Hessian of {@link #meanKl} at θ_k. Scores are recomputed per
   * product (no N×P matrix is stored).
   */
  public void fisherVector(double[] v, double[] out) {
    Arrays.fill(out, 0);
    for (int i = 0; i < n; i++) {
      Arrays.fill(score, 0);
      model.accumulateScore(thetaK, i, 1.0, score);
      double sv = 0;
      for (int j = 0; j < score.length; j++) {
        sv += score[j] * v[j];
      }
      double c = stateWeight[i] * sv / stateWeightSum;
      for (int j = 0; j < score.length; j++) {
        out[j] += c * score[j];
      }
    }
  }

  /**
   * out = ∇²S̃(θ) v, the surrogate Hessian-vector product (docs/math.md §4f: at θ_k, Σ κ ∇²L +
   * Σ A (∇²ln P + s sᵀ)). It is a central difference of the analytic gradient along v, with a
   * perturbation of norm 1e-5: the error is O(1e-10) relative, and it needs no second
   * derivatives of the policy, so every policy family has it.
   */
  public void hessianVector(double[] theta, double[] v, double[] out) {
    double norm = 0;
    for (double x : v) {
      norm += x * x;
    }
    norm = Math.sqrt(norm);
    if (norm == 0) {
      Arrays.fill(out, 0);
      return;
    }
    double eps = 1e-5 / norm;
    for (int j = 0; j < probe.length; j++) {
      probe[j] = theta[j] + eps * v[j];
    }
    gradient(probe, gradPlus);
    for (int j = 0; j < probe.length; j++) {
      probe[j] = theta[j] - eps * v[j];
    }
    gradient(probe, gradMinus);
    for (int j = 0; j < out.length; j++) {
      out[j] = (gradPlus[j] - gradMinus[j]) / (2 * eps);
    }
  }
}
