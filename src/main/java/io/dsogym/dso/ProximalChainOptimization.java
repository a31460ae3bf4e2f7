package io.dsogym.dso;

import io.dsogym.linalg.Vectors;
import io.dsogym.optim.Optimizer;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Proximal Chain Optimization (docs/math.md §4d), the PPO analogue for costs: several epochs of
 * minibatch steps on the pessimistic clipped surrogate max(r A, clip(r, 1-ε, 1+ε) A), stopping
 * early once the sampled chain KL E_ρ KL(P_θk ‖ P_θ) passes 1.5 × the target. The clip range
 * can shrink linearly over the run; the learning rate schedule is the optimizer's.
 */
public final class ProximalChainOptimization implements PolicyImprovement {
  /**
   * @param epochs passes over the batch
   * @param minibatches minibatches per epoch
   * @param clip ε
   * @param annealClip shrink ε linearly to 0 over the run (as PPO's clip schedule)
   * @param targetKl stop early when the sampled KL exceeds 1.5 × this; 0 for no early stop
   * @param maxGradNorm clip each minibatch gradient to this norm; 0 for none
   */
  public record Options(int epochs, int minibatches, double clip, boolean annealClip,
      double targetKl, double maxGradNorm) {
    public Options {
      if (epochs < 1 || minibatches < 1) {
        throw new IllegalArgumentException("epochs/minibatches: expected >= 1, got " + epochs
            + " and " + minibatches);
      }
      if (!(clip > 0 && clip < 1)) {
        throw new IllegalArgumentException("clip: expected 0 < clip < 1, got " + clip);
      }
    }
  }

  private final Optimizer optimizer;
  private final Options options;
  private final SplittableRandom rng;
  private double[] grad = new double[0];
  private int[] order = new int[0];

  public ProximalChainOptimization(Optimizer optimizer, Options options, long seed) {
    this.optimizer = optimizer;
    this.options = options;
    this.rng = new SplittableRandom(seed);
  }

  @Override
  public Report improve(Surrogate s, double[] theta, double progress) {
    int n = s.size();
    if (grad.length != theta.length) {
      grad = new double[theta.length];
    }
    if (order.length != n) {
      order = new int[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
    }
    double clip = options.clip
        * (options.annealClip ? PolicyImprovement.annealing(progress) : 1);
    s.gradientAtStart(grad);  // Algorithm 1's gradient (Lemma 2), for the report
    double gradNorm = Vectors.norm(grad);
    double[] clipped = new double[1];
    double clippedSum = 0;
    int steps = 0;
    int epochs = 0;
    double kl = 0;
    int size = Math.max(1, n / options.minibatches);
    for (int e = 0; e < options.epochs; e++) {
      shuffle(order);
      for (int from = 0; from < n; from += size) {
        int to = Math.min(n, from + size);
        s.gradient(theta, order, from, to, clip, grad, clipped);
        PolicyImprovement.clipNorm(grad, options.maxGradNorm);
        optimizer.step(theta, grad);
        clippedSum += clipped[0];
        steps++;
      }
      epochs++;
      kl = s.meanKl(theta);
      if (options.targetKl > 0 && kl > 1.5 * options.targetKl) {
        break;
      }
    }
    // ΔS̃ = S̃(θ_k+1) - S̃(θ_k): off-chain S̃(θ_k) is not 0 (docs/math.md §4b)
    double change = s.value(theta) - s.valueAtStart();
    return new Report(gradNorm, change, kl, String.format(Locale.ROOT,
        "epochs %d, clipped %.0f%%", epochs, 100 * clippedSum / steps));
  }

  private void shuffle(int[] a) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
