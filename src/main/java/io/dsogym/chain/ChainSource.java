package io.dsogym.chain;

/**
 * Whatever produces chain transitions for the DSO optimizers (docs/math.md §9): the closed loop
 * of a policy and a {@code VectorEnv} (the sampled-action route, docs/math.md §2c route 2), a
 * known chain sampled in Java (the exact marginal route), and later systems with θ in their
 * dynamics or clients in other languages streaming their own scores. The trainer and the
 * optimizers see only the {@link ChainBatch}es it returns, never which kind produced them.
 *
 * <p>A batch may cut a lane's episode (Algorithm 1 bootstraps the cut with V̂); env lanes then
 * run on into the next batch, while a known chain may start fresh episodes each batch.
 */
public interface ChainSource extends AutoCloseable {
  /** The dimension of θ. */
  int numParams();

  /** The length of the feature vector V̂ reads at each state. */
  int featureDim();

  /**
   * Records {@code stepsPerLane} steps of every lane under θ. The returned batch (and the
   * arrays it holds) stays valid until the next call.
   */
  ChainBatch collect(double[] theta, int stepsPerLane);

  /**
   * Called once θ has been updated from {@code batch}: a source whose features depend on
   * running statistics (observation normalization) takes the batch into them here, so that
   * the statistics never change between a batch's V̂, its scores and its update.
   */
  default void afterUpdate(ChainBatch batch) {}

  @Override
  void close();
}
