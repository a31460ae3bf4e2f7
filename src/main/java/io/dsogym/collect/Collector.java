package io.dsogym.collect;

import io.dsogym.chain.TrajectoryBatch;

import io.dsogym.policy.ObservationNormalizer;

/**
 * Runs the closed loop of a policy and an env and records it as chain transitions (the MDP ->
 * chain mapping of docs/math.md §2a). Two implementations: server-side inference (the policy is
 * evaluated in Java for every lane of a {@code VectorEnv}) and worker-side inference (a Python
 * worker samples with numpy from the parameters it was sent, and streams trajectory chunks).
 * Episodes continue across calls: lanes are reset once, then autoreset.
 */
public interface Collector extends AutoCloseable {
  /**
   * Collects {@code stepsPerLane} steps of every lane under {@code theta}, the policy's inputs
   * normalized with {@code normalizer}'s current statistics (which this call does not update).
   * ln pi of each recorded action is the one under theta, except in a batch marked
   * {@link TrajectoryBatch#offChain}, which a collector set to collect ahead returns: it was
   * sampled under the theta of the previous call, and ln pi is that policy's.
   */
  void collect(double[] theta, ObservationNormalizer normalizer, int stepsPerLane,
      TrajectoryBatch out);

  int numLanes();

  /** Names the lanes' host in errors ({@code VectorEnv#describe}). */
  String describe();

  @Override
  void close();
}
