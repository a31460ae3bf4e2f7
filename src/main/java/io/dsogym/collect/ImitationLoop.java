package io.dsogym.collect;

import io.dsogym.chain.ChainBatch;
import io.dsogym.chain.ChainSource;
import io.dsogym.chain.StateCost;
import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.chain.TransitionLikelihood;
import io.dsogym.policy.Policy;

/**
 * Behavioural cloning in the DSO chain (docs/math.md §6): the closed loop of the learner's
 * policy and env lanes ({@link PolicyLoop}), whose cost is the imitation loss
 * L(x,θ) = −ln π(a*(x)|x,θ) against an expert's label a*(x) at every state the learner visits,
 * in place of the env's reward. θ sits in the chain and in the cost, so the DSO gradient has
 * the cost's own term (the expert's labels at the learner's states) and the score term, which
 * accounts for how θ moves the states the learner visits (covariate shift).
 */
public final class ImitationLoop implements ChainSource {
  /** The expert: the action it would take at a raw (not normalized) observation. */
  @FunctionalInterface
  public interface Expert {
    void label(double[] obs, int obsOff, double[] action, int actionOff);
  }

  private final PolicyLoop loop;
  private final Expert expert;
  private double[] labels = new double[0];
  private long labelCount;
  private final boolean scoreTerm;

  /**
   * @param scoreTerm false drops the score term: the chain is taken as fixed, and only the
   *     cost's own gradient at the learner's states is left (online DAgger without its
   *     aggregated dataset), to show what the score term adds
   */
  public ImitationLoop(PolicyLoop loop, Expert expert, boolean scoreTerm) {
    if (loop.system() != null) {
      throw new IllegalArgumentException("loop: expected a policy loop without system "
          + "parameters (imitation replaces the env's cost), got one with "
          + loop.system().size());
    }
    this.loop = loop;
    this.expert = expert;
    this.scoreTerm = scoreTerm;
  }

  /** The expert labels asked for so far: one per recorded transition. */
  public long labelCount() {
    return labelCount;
  }

  @Override
  public int numParams() {
    return loop.numParams();
  }

  @Override
  public int featureDim() {
    return loop.featureDim();
  }

  @Override
  public ChainBatch collect(double[] theta, int stepsPerLane) {
    ChainBatch b = loop.collect(theta, stepsPerLane);
    TrajectoryBatch steps = b.steps();
    int n = steps.size();
    int d = steps.obsDim;
    int k = steps.actionDim;
    if (labels.length != n * k) {
      labels = new double[n * k];
    }
    for (int i = 0; i < n; i++) {
      expert.label(steps.obs, i * d, labels, i * k);
    }
    labelCount += n;
    StateCost imitation = new Imitation(loop.policy(), b.features(), labels);
    for (int i = 0; i < n; i++) {
      steps.cost[i] = imitation.cost(theta, i);  // the sampled cost at θ_k is L(x_i,θ_k)
    }
    return new ChainBatch(steps, b.featureDim(), b.features(), b.nextFeatures(),
        scoreTerm ? b.transitions() : new FixedChain(n, numParams()), imitation);
  }

  @Override
  public void afterUpdate(ChainBatch batch) {
    loop.afterUpdate(batch);
  }

  @Override
  public void close() {
    loop.close();
  }

  /** A chain that θ does not move: ratio 1 and score 0 at every θ. */
  private record FixedChain(int size, int numParams) implements TransitionLikelihood {
    @Override
    public double logLikelihood(double[] theta, int i) {
      return 0;
    }

    @Override
    public double accumulateScore(double[] theta, int i, double weight, double[] grad) {
      return 0;
    }
  }

  /** −ln π(a*_i|z_i,θ) at the policy's (normalized) inputs z_i; its gradient is −∇ ln π. */
  private record Imitation(Policy policy, double[] z, double[] labels) implements StateCost {
    @Override
    public double cost(double[] theta, int i) {
      return -policy.logProb(theta, z, i * policy.obsDim(), labels, i * policy.actionDim());
    }

    @Override
    public double accumulateGradient(double[] theta, int i, double weight, double[] grad) {
      return -policy.accumulateScore(theta, z, i * policy.obsDim(), labels,
          i * policy.actionDim(), -weight, grad);
    }
  }
}
