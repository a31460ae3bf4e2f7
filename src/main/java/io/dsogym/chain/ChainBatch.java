package io.dsogym.chain;

/**
 * One batch of chain transitions x_i -> x'_i recorded under θ_k, with everything the DSO engine
 * needs of them (docs/math.md §9), whoever produced them:
 *
 * <ul>
 *   <li>{@code steps}: the step costs L(x_i,θ_k) (the sampled cost ℓ = -reward for an env),
 *       terminated/truncated flags, episode steps and lane layout that Algorithm 1 reads
 *       (docs/math.md §3d), and, for an {@link TrajectoryBatch#offChain} batch, ln P of each
 *       transition under the behaviour that sampled it (docs/math.md §4b);
 *   <li>{@code features} and {@code nextFeatures}: what V̂ reads at x_i and x'_i,
 *       {@code featureDim} values each, transition after transition;
 *   <li>{@code transitions}: ln P(x'_i|x_i,θ) and its θ-score at any θ: the ratios, KL and
 *       Fisher products of the surrogate (docs/math.md §4);
 *   <li>{@code cost}: the θ-dependent part of L(x_i,θ), re-evaluable at any θ
 *       ({@link StateCost#NONE} when the cost is sampled and depends on θ only through the
 *       chain, as an env's reward does).
 * </ul>
 */
public record ChainBatch(TrajectoryBatch steps, int featureDim, double[] features,
    double[] nextFeatures, TransitionLikelihood transitions, StateCost cost) {
  public ChainBatch {
    int n = steps.size();
    if (transitions.size() != n) {
      throw new IllegalArgumentException("transitions: expected " + n + " (the batch size), got "
          + transitions.size());
    }
    if (features.length < n * featureDim || nextFeatures.length < n * featureDim) {
      throw new IllegalArgumentException("features: expected " + n * featureDim + " values each,"
          + " got " + features.length + " and " + nextFeatures.length);
    }
  }

  public int size() {
    return steps.size();
  }
}
