package io.dsogym.dso;

import io.dsogym.linalg.Vectors;
import java.util.Locale;

/**
 * Chain Iteration (docs/math.md §4c), the analogue of approximate policy iteration: with V̂ evaluated
 * for θ_k (in the surrogate's weights), minimize S̃ by damped Newton steps that use the
 * surrogate Hessian-vector product of §4f. Each step solves
 * <pre>
 *   (∇²S̃(θ) + μ F_k + δ I) α = -∇S̃(θ)
 * </pre>
 * by conjugate gradient. The damping metric is the chain Fisher F_k, the Hessian of the
 * proximal KL cost of §2f, so a large μ turns the step into a natural-gradient step and a small
 * one into Newton's. μ adapts Levenberg-Marquardt style: it grows when the quadratic model
 * predicts S̃'s change badly or the step fails, and shrinks when the model is good. A step
 * longer than the KL trust region is halved until it fits. On a tabular chain with exact
 * weights and no trust region this converges to argmin S̃, i.e. (soft) policy iteration.
 */
public final class ChainIteration implements PolicyImprovement {
  /**
   * @param newtonSteps damped Newton steps per batch
   * @param cgIterations conjugate-gradient iterations per step
   * @param initialDamping μ at the start of the run
   * @param minDamping the floor of μ
   * @param maxKl the KL trust region per batch (Double.POSITIVE_INFINITY for none)
   */
  public record Options(int newtonSteps, int cgIterations, double initialDamping,
      double minDamping, double maxKl) {
    public Options {
      if (newtonSteps < 1 || cgIterations < 1) {
        throw new IllegalArgumentException("ci-steps/cg-iters: expected >= 1, got "
            + newtonSteps + " and " + cgIterations);
      }
      if (!(initialDamping > 0) || !(minDamping > 0)) {
        throw new IllegalArgumentException("damping: expected > 0, got " + initialDamping
            + " and " + minDamping);
      }
      if (!(maxKl > 0)) {
        throw new IllegalArgumentException("max-kl: expected > 0, got " + maxKl);
      }
    }
  }

  /** δ: keeps the solve well posed where F_k is singular (parameters no sample moves). */
  private static final double RIDGE = 1e-8;
  /** Beyond this the step is a vanishing natural-gradient step anyway; keeps μ recoverable. */
  private static final double MAX_DAMPING = 1e6;

  private final Options options;
  private double damping;

  public ChainIteration(Options options) {
    this.options = options;
    this.damping = options.initialDamping;
  }

  public double damping() {
    return damping;
  }

  @Override
  public double[] state() {
    return new double[] {damping};
  }

  @Override
  public void restoreState(double[] state) {
    if (state != null && state.length == 1 && state[0] > 0) {
      damping = state[0];
    }
  }

  @Override
  public Report improve(Surrogate s, double[] theta, double progress) {
    int p = theta.length;
    double[] g = new double[p];
    double[] alpha = new double[p];
    double[] hAlpha = new double[p];
    double[] fv = new double[p];
    double[] trial = new double[p];
    // Each step is accepted only if it lowers S̃ below its value at the step's start point,
    // never by the sign of S̃ itself: off-chain S̃(θ_k) is not 0 (docs/math.md §4b).
    double current = s.gradient(theta, g);
    double gradNorm = Vectors.norm(g);
    int accepted = 0;
    for (int step = 0; step < options.newtonSteps; step++) {
      if (step > 0) {
        current = s.gradient(theta, g);
      }
      if (Vectors.norm(g) <= 1e-9 * Math.max(1, gradNorm)) {
        break;  // converged: further steps would only chase round-off
      }
      double[] negG = new double[p];
      for (int j = 0; j < p; j++) {
        negG[j] = -g[j];
      }
      double mu = damping;
      double[] point = theta.clone();
      ConjugateGradient.Operator op = (v, out) -> {
        s.hessianVector(point, v, out);
        s.fisherVector(v, fv);
        for (int j = 0; j < p; j++) {
          out[j] += mu * fv[j] + RIDGE * v[j];
        }
      };
      ConjugateGradient.Result cg = ConjugateGradient.solve(op, negG, alpha,
          options.cgIterations, 1e-10);
      // The quadratic model's predicted change gᵀα + ½ αᵀHα (H without the damping).
      s.hessianVector(point, alpha, hAlpha);
      double gAlpha = Vectors.dot(g, alpha);
      double alphaHAlpha = Vectors.dot(alpha, hAlpha);
      double scale = 1.0;
      double change = 0;
      boolean ok = false;
      for (int b = 0; b < 30; b++, scale *= 0.5) {
        for (int j = 0; j < p; j++) {
          trial[j] = theta[j] + scale * alpha[j];
        }
        if (s.meanKl(trial) > options.maxKl) {
          continue;
        }
        change = s.value(trial) - current;
        ok = change < 0;
        break;
      }
      double predicted = scale * gAlpha + 0.5 * scale * scale * alphaHAlpha;
      if (!ok || cg.negativeCurvature() || !(predicted < 0)) {
        damping *= 4;
      } else {
        double ratio = change / predicted;
        if (ratio > 0.75 && scale == 1.0) {
          damping = Math.max(options.minDamping, damping / 2);
        } else if (ratio < 0.25) {
          damping *= 2;
        }
      }
      damping = Math.min(damping, MAX_DAMPING);
      if (ok) {
        System.arraycopy(trial, 0, theta, 0, p);
        accepted++;
      }
    }
    double kl = s.meanKl(theta);
    double change = accepted == 0 ? 0.0 : s.value(theta) - s.valueAtStart();  // ΔS̃ (§4b)
    return new Report(gradNorm, change, kl, String.format(Locale.ROOT,
        "%d/%d Newton steps accepted, damping %.3g", accepted, options.newtonSteps, damping));
  }
}
