package io.dsogym.dso;

import io.dsogym.linalg.Vectors;
/**
 * One policy-improvement step of a DSO optimizer: given the surrogate S̃ built from a batch
 * recorded under θ_k (docs/math.md §4b), move θ (in place, starting at θ_k) to decrease the cost.
 * The four optimizers differ only here: {@link GradientStep} (Algorithm 1), {@link
 * ProximalChainOptimization}, {@link NaturalGradient} and {@link ChainIteration}.
 */
public interface PolicyImprovement {
  /**
   * @param gradNorm ‖∇S̃(θ_k)‖, the Algorithm 1 gradient's norm (Lemma 2)
   * @param surrogateChange ΔS̃ = S̃(θ_{k+1}) - S̃(θ_k): the predicted change of J (negative =
   *     better). On-chain S̃(θ_k) = 0, but off-chain (collect-ahead) it is not (docs/math.md
   *     §4b), so the change is always taken relative to it; NaN when not computed
   * @param kl the sampled chain KL between θ_k and θ_{k+1}
   * @param detail what the optimizer did, for the console (epochs run, step size, damping)
   */
  record Report(double gradNorm, double surrogateChange, double kl, String detail) {}

  /**
   * @param progress the fraction of the run already done, in [0, 1], for schedules
   */
  Report improve(Surrogate surrogate, double[] theta, double progress);

  /** The optimizer's own state across iterations (for checkpoints); empty when it has none. */
  default double[] state() {
    return new double[0];
  }

  default void restoreState(double[] state) {}

  /**
   * The one annealing schedule of the steps (Adam's learning rate, PCO's clip, natural's KL
   * radius): the factor at {@code progress} in [0, 1], from 1 linearly down to 5%.
   */
  static double annealing(double progress) {
    return Math.max(0.05, 1 - progress);
  }

  /** Scales v to at most maxNorm (no clipping when maxNorm <= 0); returns the raw norm. */
  static double clipNorm(double[] v, double maxNorm) {
    double n = Vectors.norm(v);
    if (maxNorm > 0 && n > maxNorm) {
      double k = maxNorm / n;
      for (int i = 0; i < v.length; i++) {
        v[i] *= k;
      }
    }
    return n;
  }
}
