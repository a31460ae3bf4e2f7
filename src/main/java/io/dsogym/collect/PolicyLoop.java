package io.dsogym.collect;

import io.dsogym.chain.ChainBatch;
import io.dsogym.chain.ChainSource;
import io.dsogym.chain.StateCost;
import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.chain.TransitionLikelihood;
import io.dsogym.env.ParametricSystem;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policy;
import java.util.List;

/**
 * The closed loop of a policy and a {@code VectorEnv} as a {@link ChainSource} (the MDP -> chain
 * mapping of docs/math.md §2a): a {@link Collector} runs it (server- or worker-side inference,
 * collect-ahead), transitions are explained by the sampled actions (docs/math.md §2c route 2:
 * {@link PolicyTransitions}), the cost is the env's sampled ℓ = -reward, and both the policy and
 * V̂ read the observations normalized with this loop's running statistics, which take in each
 * batch only after its update.
 *
 * <p>With {@link SystemParameters}, θ = (θ_π, φ_T) also sets the lanes' dynamics and cost
 * (docs/math.md §10): φ(θ) is applied to every lane before a batch, and the batch's
 * transitions and cost carry the system's score and cost gradient ({@link SystemTerms}).
 */
public final class PolicyLoop implements ChainSource {
  private final Policy policy;
  private final ObservationNormalizer normalizer;
  private final TrajectoryBatch batch;
  private Collector collector;
  private final SystemParameters system;
  private final List<? extends ParametricSystem> systemLanes;
  private double[] zObs = new double[0];
  private double[] zNext = new double[0];

  public PolicyLoop(Collector collector, Policy policy, ObservationNormalizer normalizer) {
    this(collector, policy, normalizer, null, List.of());
  }

  /**
   * @param system the trained part of the lanes' φ, or null for a policy alone
   * @param systemLanes the collector's lanes, each a parametric system (in lane order)
   */
  public PolicyLoop(Collector collector, Policy policy, ObservationNormalizer normalizer,
      SystemParameters system, List<? extends ParametricSystem> systemLanes) {
    if (system != null && systemLanes.isEmpty()) {
      throw new IllegalArgumentException("systemLanes: expected the lanes of the parametric "
          + "system, got none");
    }
    this.collector = collector;
    this.policy = policy;
    this.normalizer = normalizer;
    this.system = system;
    this.systemLanes = List.copyOf(systemLanes);
    this.batch = new TrajectoryBatch(policy.obsDim(), policy.actionDim());
  }

  /** θ's system part, or null. */
  public SystemParameters system() {
    return system;
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
    return policy.numParams() + (system == null ? 0 : system.size());
  }

  @Override
  public int featureDim() {
    return policy.obsDim();
  }

  @Override
  public ChainBatch collect(double[] theta, int stepsPerLane) {
    if (system != null) {
      system.apply(theta, systemLanes);
    }
    collector.collect(theta, normalizer, stepsPerLane, batch);
    // refused here, whole: the collector and its lanes stay consistent, and nothing of it
    // reaches the normalizer, V̂ or θ
    NonFiniteValueException.requireFinite(batch, collector.describe());
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
    TransitionLikelihood transitions = new PolicyTransitions(policy, zObs, batch.actions, n);
    if (system == null) {
      return new ChainBatch(batch, d, zObs, zNext, transitions, StateCost.NONE);
    }
    ParametricSystem model = systemLanes.get(0);
    return new ChainBatch(batch, d, zObs, zNext,
        SystemTerms.transitions(transitions, model, system, batch),
        SystemTerms.cost(model, system, batch));
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
