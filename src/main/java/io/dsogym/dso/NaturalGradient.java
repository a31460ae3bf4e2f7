package io.dsogym.dso;

import io.dsogym.linalg.Vectors;
import java.util.Locale;

/**
 * The natural gradient with a KL trust region (docs/math.md §4e): solve (F + δI) w = g by conjugate
 * gradient with Fisher-vector products from the recorded scores, scale the step -w to the
 * quadratic model's KL budget, ½ βwᵀFw = maxKl, then backtrack (halving) until the sampled
 * chain KL is within 1.5 × maxKl and the surrogate decreases relative to its value at θ_k,
 * S̃(θ) < S̃(θ_k). Off-chain S̃(θ_k) is not 0 (§4b), so the test is never S̃(θ) < 0. Without an
 * acceptable step θ stays at θ_k. Annealed, the radius shrinks linearly over the run to 5% of
 * maxKl, as Adam's step does for the other optimizers: a policy that found its gait late in a
 * run is moved less.
 */
public final class NaturalGradient implements PolicyImprovement {
  /**
   * @param maxKl the trust region's KL radius
   * @param cgIterations conjugate-gradient iterations
   * @param damping δ, added to F for a well-posed solve with few samples
   * @param backtracks halvings tried by the line search
   * @param anneal whether the radius shrinks with the run's progress
   */
  public record Options(double maxKl, int cgIterations, double damping, int backtracks,
      boolean anneal) {
    public Options {
      if (!(maxKl > 0)) {
        throw new IllegalArgumentException("max-kl: expected > 0, got " + maxKl);
      }
      if (cgIterations < 1) {
        throw new IllegalArgumentException("cg-iters: expected >= 1, got " + cgIterations);
      }
      if (!(damping >= 0)) {
        throw new IllegalArgumentException("cg-damping: expected >= 0, got " + damping);
      }
    }

    /** The radius at {@code progress} in [0, 1] of the run. */
    double maxKlAt(double progress) {
      return maxKl * (anneal ? PolicyImprovement.annealing(progress) : 1);
    }
  }

  private final Options options;

  public NaturalGradient(Options options) {
    this.options = options;
  }

  @Override
  public Report improve(Surrogate s, double[] theta, double progress) {
    int p = theta.length;
    double[] g = new double[p];
    s.gradientAtStart(g);
    double startValue = s.valueAtStart();
    double gradNorm = Vectors.norm(g);
    double[] w = new double[p];
    double[] fw = new double[p];
    ConjugateGradient.Operator fisher = (v, out) -> {
      s.fisherVector(v, out);
      for (int j = 0; j < p; j++) {
        out[j] += options.damping * v[j];
      }
    };
    ConjugateGradient.solve(fisher, g, w, options.cgIterations, 1e-10);
    fisher.apply(w, fw);
    double wFw = Vectors.dot(w, fw);
    double[] start = theta.clone();
    if (!(wFw > 0)) {
      return new Report(gradNorm, 0, 0, "no step (zero gradient)");
    }
    double maxKl = options.maxKlAt(progress);
    double beta = Math.sqrt(2 * maxKl / wFw);
    double step = beta;
    for (int b = 0; b <= options.backtracks; b++, step *= 0.5) {
      for (int j = 0; j < p; j++) {
        theta[j] = start[j] - step * w[j];
      }
      double change = s.value(theta) - startValue;  // ΔS̃, relative to S̃(θ_k) (§4b)
      double kl = s.meanKl(theta);
      if (change < 0 && kl <= 1.5 * maxKl) {
        return new Report(gradNorm, change, kl, String.format(Locale.ROOT,
            "step %.3g (%d backtracks)", step, b));
      }
    }
    System.arraycopy(start, 0, theta, 0, p);
    return new Report(gradNorm, 0, 0, "no step (line search failed)");
  }
}
