package io.dsogym.collect;

import io.dsogym.chain.ChainBatch;
import io.dsogym.chain.ChainSource;
import io.dsogym.chain.StateCost;
import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policy;

/**
 * The closed loop of a policy and a {@code VectorEnv} as a {@link ChainSource} (the MDP -> chain
 * mapping of docs/math.md §2a): a {@link Collector} runs it (server- or worker-side inference,
 * collect-ahead), transitions are explained by the sampled actions (docs/math.md §2c route 2:
 * {@link PolicyTransitions}), the cost is the env's sampled ℓ = -reward, and both the policy and
 * V̂ read the observations normalized with this loop's running statistics, which take in each
 * batch only after its update.
 */
public final class PolicyLoop implements ChainSource {
  private final Policy policy;
  private final ObservationNormalizer normalizer;
  private final TrajectoryBatch batch;
  private Collector collector;
  private double[] zObs = new double[0];
  private double[] zNext = new double[0];

  public PolicyLoop(Collector collector, Policy policy, ObservationNormalizer normalizer) {
    this.collector = collector;
    this.policy = policy;
    this.normalizer = normalizer;
    this.batch = new TrajectoryBatch(policy.obsDim(), policy.actionDim());
  }

  public Policy policy() {
    return policy;
  }

  public ObservationNormalizer normalizer() {
    return normalizer;
  }

  public Collector collector() {
    return collector;
  }

  /** Swaps in new lanes (a lost worker's replacement); closes the old collector. */
  public void replaceCollector(Collector next) {
    collector.close();
    collector = next;
  }

  @Override
  public int numParams() {
    return policy.numParams();
  }

  @Override
  public int featureDim() {
    return policy.obsDim();
  }

  @Override
  public ChainBatch collect(double[] theta, int stepsPerLane) {
    collector.collect(theta, normalizer, stepsPerLane, batch);
    int n = batch.size();
    int d = policy.obsDim();
    if (zObs.length != n * d) {
      zObs = new double[n * d];
      zNext = new double[n * d];
    }
    for (int i = 0; i < n; i++) {
      normalizer.normalize(batch.obs, i * d, zObs, i * d);
      normalizer.normalize(batch.nextObs, i * d, zNext, i * d);
    }
    return new ChainBatch(batch, d, zObs, zNext,
        new PolicyTransitions(policy, zObs, batch.actions, n), StateCost.NONE);
  }

  @Override
  public void afterUpdate(ChainBatch b) {
    normalizer.update(b.steps().obs, b.size());
  }

  @Override
  public void close() {
    collector.close();
  }
}
