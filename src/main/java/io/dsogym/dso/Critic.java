package io.dsogym.dso;

import io.dsogym.chain.ChainBatch;

/**
 * A critic that learns by a rule of its own, in place of the trainer's fitted V̂ (docs/math.md
 * §3d): Z-learning's V̂ = −ln ẑ on an LMDP (§5), for one. Algorithm 1 reads its values as it
 * reads V̂'s, and it learns from each batch after they have been read.
 */
public interface Critic {
  /** V̂(x_i) and V̂(x'_i) of every transition of the batch (vNext is unread where x' ends). */
  void values(ChainBatch batch, double[] v, double[] vNext);

  /** Learns from the batch, which was recorded under θ_k. */
  void learn(ChainBatch batch, double[] thetaK);
}
