package io.dsogym.oracle;

import io.dsogym.chain.Chain;
import io.dsogym.chain.ChainBatch;
import io.dsogym.chain.ChainSource;
import io.dsogym.chain.StateCost;
import io.dsogym.chain.TransitionLikelihood;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * A known {@link Chain} sampled in Java, as a {@link ChainSource}: the exact-marginal route
 * (docs/math.md §2c route 1, §4b): each transition is scored by the chain's own ln P(x'|x,θ),
 * so the surrogate's ratios are ratios of marginals, and the chain's θ-dependent cost L(x,θ)
 * enters the surrogate with its gradient. Each batch starts {@code lanes} fresh episodes from P0
 * ({@link ChainRollouts#episodes}); terminal states are recorded with their final cost and no
 * transition (docs/math.md §1a), and a lane still running at the end is cut and bootstrapped.
 *
 * @param <S> the chain's state type
 */
public final class KnownChainSource<S> implements ChainSource {
  private final Chain<S> chain;
  private final Function<S, double[]> features;
  private final int featureDim;
  private final int lanes;
  private final SplittableRandom rng;
  /** Where each lane stands between batches, when lanes go on (null: fresh episodes). */
  private S[] laneStates;
  private int[] laneSteps;

  /**
   * @param features what V̂ reads at a state ({@code featureDim} values; e.g. a one-hot index)
   * @param seed the sampler's seed
   */
  public KnownChainSource(Chain<S> chain, Function<S, double[]> features, int featureDim,
      int lanes, long seed) {
    if (lanes <= 0) {
      throw new IllegalArgumentException("lanes: expected > 0, got " + lanes);
    }
    this.chain = chain;
    this.features = features;
    this.featureDim = featureDim;
    this.lanes = lanes;
    this.rng = new SplittableRandom(seed);
  }

  /**
   * The same, but lanes go on across batches from where they stopped, as env lanes do, instead
   * of starting fresh episodes each batch: the average-cost setting of a chain without
   * terminal states then sees its stationary behaviour rather than P0's transient.
   */
  @SuppressWarnings("unchecked")
  public static <S> KnownChainSource<S> continuing(Chain<S> chain, Function<S, double[]> features,
      int featureDim, int lanes, long seed) {
    KnownChainSource<S> source = new KnownChainSource<>(chain, features, featureDim, lanes, seed);
    source.laneStates = (S[]) new Object[lanes];
    source.laneSteps = new int[lanes];
    for (int j = 0; j < lanes; j++) {
      source.laneStates[j] = chain.sampleInitial(source.rng);
    }
    return source;
  }

  /** One-hot features of a tabular chain's n states. */
  public static double[] oneHot(int state, int n) {
    double[] f = new double[n];
    f[state] = 1;
    return f;
  }

  @Override
  public int numParams() {
    return chain.numParams();
  }

  @Override
  public int featureDim() {
    return featureDim;
  }

  @Override
  public ChainBatch collect(double[] theta, int stepsPerLane) {
    ChainRollouts<S> r = laneStates == null
        ? ChainRollouts.episodes(chain, theta, lanes, stepsPerLane, rng)
        : ChainRollouts.continued(chain, theta, laneStates, laneSteps, stepsPerLane, rng);
    int n = r.batch.size();
    double[] x = new double[n * featureDim];
    double[] next = new double[n * featureDim];
    for (int i = 0; i < n; i++) {
      System.arraycopy(checked(features.apply(r.state(i))), 0, x, i * featureDim, featureDim);
      S y = r.nextState(i);
      if (y != null) {
        System.arraycopy(checked(features.apply(y)), 0, next, i * featureDim, featureDim);
      }
    }
    return new ChainBatch(r.batch, featureDim, x, next, transitions(r), cost(r));
  }

  private double[] checked(double[] f) {
    if (f.length != featureDim) {
      throw new IllegalArgumentException("features: expected " + featureDim + " values, got "
          + f.length);
    }
    return f;
  }

  /** ln P and the exact score; a terminal step has no transition (ln P = 0, no score). */
  private TransitionLikelihood transitions(ChainRollouts<S> r) {
    return new TransitionLikelihood() {
      @Override
      public int size() {
        return r.batch.size();
      }

      @Override
      public int numParams() {
        return chain.numParams();
      }

      @Override
      public double logLikelihood(double[] theta, int i) {
        S y = r.nextState(i);
        return y == null ? 0 : chain.logProb(r.state(i), y, theta);
      }

      @Override
      public double accumulateScore(double[] theta, int i, double weight, double[] grad) {
        S y = r.nextState(i);
        if (y == null) {
          return 0;
        }
        chain.score(r.state(i), y, null, theta, weight, grad);
        return chain.logProb(r.state(i), y, theta);
      }
    };
  }

  private StateCost cost(ChainRollouts<S> r) {
    return new StateCost() {
      @Override
      public double cost(double[] theta, int i) {
        return chain.cost(r.state(i), theta);
      }

      @Override
      public double accumulateGradient(double[] theta, int i, double weight, double[] grad) {
        chain.costGradient(r.state(i), theta, weight, grad);
        return chain.cost(r.state(i), theta);
      }
    };
  }

  @Override
  public void close() {}
}
