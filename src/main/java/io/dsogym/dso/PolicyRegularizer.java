package io.dsogym.dso;

import io.dsogym.chain.StateCost;

import io.dsogym.policy.Policy;
import io.dsogym.policy.PolicySpec;

/**
 * Chain-cost regularizers built on the action distribution, as a {@link StateCost} at the
 * recorded states:
 * <pre>
 *   L_reg(x,θ) = -β H[π(·|x,θ)] + λ KL( π(·|x,θ) ‖ π̄(·|x) ),   π̄ = π(·|x,θ_ref)
 *   KL(π_θ ‖ π̄) = E_{a~π_θ}[ ln π_θ(a|x) - ln π̄(a|x) ]
 * </pre>
 * The entropy term is docs/math.md §2e's maximum-entropy cost (closed form: the softmax entropy, or
 * Σ ln σ + ½ ln 2πe for the Gaussian). The KL term is §2f's, in §2f's direction (π_θ first:
 * mode-seeking, the KL-regularized-control and proximal form). With θ_ref = θ_k it is the
 * proximal cost: zero with zero gradient at θ_k, and its Hessian there is the policy Fisher
 * (§4e). With a fixed θ_ref it is KL-regularized control toward a reference policy. Both terms
 * are exact expectations over the action, not sampled. Closed forms: Σ_a π_θ(a)(ln π_θ(a) -
 * ln π̄(a)) for a softmax, and Σ_j [ln(σ̄_j/σ_j) + (σ_j² + (μ_j - μ̄_j)²) / (2σ̄_j²) - ½] for a
 * diagonal Gaussian.
 */
public final class PolicyRegularizer implements StateCost {
  private static final double HALF_LOG_2PI_E = 0.5 * Math.log(2 * Math.PI * Math.E);

  private final Policy policy;
  private final double[] obs;
  private final int obsDim;
  private final double entropyCoef;
  private final double klCoef;
  private final boolean categorical;
  private final int width;
  private final double[] refParams;
  private final double[] params;
  private final double[] dParams;

  /**
   * A KL to π̄ = π_θref evaluated on the same normalized observations (e.g. θ_ref = θ_k, the
   * proximal cost of docs/math.md §2f).
   */
  public PolicyRegularizer(Policy policy, double[] obs, int size, double entropyCoef,
      double klCoef, double[] thetaRef) {
    this(policy, obs, size, entropyCoef, klCoef, thetaRef, obs);
  }

  /**
   * @param obs the normalized observations at which the cost is evaluated
   * @param size the number of states in obs
   * @param entropyCoef β >= 0
   * @param klCoef λ >= 0
   * @param thetaRef the parameters of the reference policy π̄ of λ KL(π_θ ‖ π̄) (null when
   *     λ = 0)
   * @param refObs the same states as the reference policy sees them (normalized with its own
   *     statistics, for a reference trained in another run)
   */
  public PolicyRegularizer(Policy policy, double[] obs, int size, double entropyCoef,
      double klCoef, double[] thetaRef, double[] refObs) {
    if (!(entropyCoef >= 0) || !(klCoef >= 0)) {
      throw new IllegalArgumentException("entropy/KL coefficients: expected >= 0, got "
          + entropyCoef + " and " + klCoef);
    }
    if (klCoef > 0 && thetaRef == null) {
      throw new IllegalArgumentException("thetaRef: expected the reference policy for a KL "
          + "coefficient of " + klCoef + ", got null");
    }
    if (thetaRef != null && thetaRef.length != policy.numParams()) {
      throw new IllegalArgumentException("thetaRef: expected " + policy.numParams()
          + " parameters (the policy's), got " + thetaRef.length);
    }
    this.policy = policy;
    this.obs = obs;
    this.obsDim = policy.obsDim();
    this.entropyCoef = entropyCoef;
    this.klCoef = klCoef;
    this.categorical = policy.spec().head() == PolicySpec.Head.CATEGORICAL;
    this.width = categorical ? policy.spec().outputs() : 2 * policy.spec().outputs();
    this.params = new double[width];
    this.dParams = new double[width];
    this.refParams = klCoef > 0 ? new double[size * width] : null;
    if (refParams != null) {
      for (int i = 0; i < size; i++) {
        policy.distributionParams(thetaRef, refObs, i * obsDim, params);
        System.arraycopy(params, 0, refParams, i * width, width);
      }
    }
  }

  @Override
  public double cost(double[] theta, int i) {
    policy.distributionParams(theta, obs, i * obsDim, params);
    return costAndDerivative(i, params, null);
  }

  @Override
  public double accumulateGradient(double[] theta, int i, double weight, double[] grad) {
    policy.distributionParams(theta, obs, i * obsDim, params);
    double c = costAndDerivative(i, params, dParams);
    policy.accumulateParamsGradient(theta, obs, i * obsDim, dParams, weight, grad);
    return c;
  }

  @Override
  public void accumulateGradients(double[] theta, int[] order, int from, int to,
      double[] weight, double[] grad, double[] costs) {
    policy.accumulateParamsFunction(theta, obs, order, from, to, this::costAndDerivative,
        weight, grad, costs);
  }

  /** The cost at state i's parameters; unless dParams is null, also ∂cost/∂params in it. */
  private double costAndDerivative(int i, double[] params, double[] dParams) {
    return categorical ? categorical(i, params, dParams) : gaussian(i, params, dParams);
  }

  private double categorical(int i, double[] params, double[] dParams) {
    int k = width;
    double lse = logSumExp(params, 0, k);
    double entropy = 0;
    for (int j = 0; j < k; j++) {
      double logp = params[j] - lse;
      entropy -= Math.exp(logp) * logp;
    }
    // KL(π_θ ‖ π̄) = Σ_j p_j (ln p_j - ln p̄_j)
    double kl = 0;
    double refLse = refParams == null ? 0 : logSumExp(refParams, i * k, k);
    if (refParams != null) {
      for (int j = 0; j < k; j++) {
        double logp = params[j] - lse;
        kl += Math.exp(logp) * (logp - (refParams[i * k + j] - refLse));
      }
    }
    if (dParams != null) {
      for (int j = 0; j < k; j++) {
        double logp = params[j] - lse;
        double p = Math.exp(logp);
        // dH/dz_j = -p_j (ln p_j + H); dKL(θ‖ref)/dz_j = p_j (ln p_j - ln p̄_j - KL)
        double d = entropyCoef * p * (logp + entropy);
        if (refParams != null) {
          d += klCoef * p * (logp - (refParams[i * k + j] - refLse) - kl);
        }
        dParams[j] = d;
      }
    }
    return -entropyCoef * entropy + klCoef * kl;
  }

  private double gaussian(int i, double[] params, double[] dParams) {
    int m = width / 2;
    double c = 0;
    for (int j = 0; j < m; j++) {
      double mean = params[j];
      double logStd = params[m + j];
      c -= entropyCoef * (logStd + HALF_LOG_2PI_E);
      double dMean = 0;
      double dLogStd = -entropyCoef;
      if (refParams != null) {
        // KL(N(μ,σ²) ‖ N(μ̄,σ̄²)) = ln(σ̄/σ) + (σ² + (μ - μ̄)²) / (2σ̄²) - ½;
        // ∂/∂μ = (μ - μ̄)/σ̄², ∂/∂ln σ = σ²/σ̄² - 1
        double refMean = refParams[i * width + j];
        double refLogStd = refParams[i * width + m + j];
        double refInvVar = Math.exp(-2 * refLogStd);
        double diff = mean - refMean;
        double varRatio = Math.exp(2 * (logStd - refLogStd));
        c += klCoef * (refLogStd - logStd + 0.5 * (varRatio + diff * diff * refInvVar) - 0.5);
        dMean += klCoef * diff * refInvVar;
        dLogStd += klCoef * (varRatio - 1);
      }
      if (dParams != null) {
        dParams[j] = dMean;
        dParams[m + j] = dLogStd;
      }
    }
    return c;
  }

  private static double logSumExp(double[] z, int off, int k) {
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < k; j++) {
      max = Math.max(max, z[off + j]);
    }
    double s = 0;
    for (int j = 0; j < k; j++) {
      s += Math.exp(z[off + j] - max);
    }
    return max + Math.log(s);
  }
}
