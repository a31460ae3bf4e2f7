package io.dsogym.oracle;

import io.dsogym.chain.StateCost;
import io.dsogym.chain.TransitionLikelihood;

import io.dsogym.chain.Chain;
import java.util.List;

/**
 * The exact-marginal route (docs/math.md §4b): transition i is scored by the chain's own
 * ln P(x'_i|x_i,θ), so the ratio is the ratio of marginals, which stays closer to 1 than the
 * sampled-action ratio. The chain must implement {@link Chain#logProb} and an exact
 * {@link Chain#score} (no latent).
 */
public final class ChainTransitions<S> implements TransitionLikelihood {
  private final Chain<S> chain;
  private final List<S> from;
  private final List<S> to;

  public ChainTransitions(Chain<S> chain, List<S> from, List<S> to) {
    if (from.size() != to.size()) {
      throw new IllegalArgumentException("to: expected " + from.size() + " next states, got "
          + to.size());
    }
    this.chain = chain;
    this.from = List.copyOf(from);
    this.to = List.copyOf(to);
  }

  @Override
  public int size() {
    return from.size();
  }

  @Override
  public int numParams() {
    return chain.numParams();
  }

  @Override
  public double logLikelihood(double[] theta, int i) {
    return chain.logProb(from.get(i), to.get(i), theta);
  }

  @Override
  public double accumulateScore(double[] theta, int i, double weight, double[] grad) {
    chain.score(from.get(i), to.get(i), null, theta, weight, grad);
    return chain.logProb(from.get(i), to.get(i), theta);
  }

  /** The chain's own cost L(x_i,θ) at the recorded states, as a surrogate cost term. */
  public StateCost chainCost() {
    return new StateCost() {
      @Override
      public double cost(double[] theta, int i) {
        return chain.cost(from.get(i), theta);
      }

      @Override
      public double accumulateGradient(double[] theta, int i, double weight, double[] grad) {
        chain.costGradient(from.get(i), theta, weight, grad);
        return chain.cost(from.get(i), theta);
      }
    };
  }
}
