package io.dsogym.oracle;

import io.dsogym.dso.Surrogate;

import java.util.ArrayList;
import java.util.List;

/**
 * The surrogate of a tabular chain with exact weights instead of samples: every transition
 * x -> y of a non-terminal x is one "recorded" transition of weight ρ(x) P(y|x) (the exact
 * discounted visitation of {@link DiscountedSolution}), with the ratio term's weight
 * A = γ ρ(x) P(y|x) V(y) (docs/math.md §4b with V̂ = V). Then S̃(θ) is exactly the normalized
 * surrogate S̄(θ_k, θ - θ_k) of §4a, its gradient at θ_k is ∇J (Lemma 2), its Hessian there is
 * the surrogate Hessian of §4f, and its Fisher operator is the chain Fisher of §4e divided by
 * Σρ. The oracle the sampled optimizers are tested against.
 */
public final class TabularSurrogate {
  private TabularSurrogate() {}

  /**
   * @throws IllegalArgumentException when a visited terminal state's final cost depends on θ
   *     (no transition leaves it, so the surrogate could not carry that term)
   */
  public static Surrogate exact(TabularChain chain, DiscountedSolution solution) {
    int n = chain.numStates();
    List<Integer> from = new ArrayList<>();
    List<Integer> to = new ArrayList<>();
    List<Double> advantage = new ArrayList<>();
    List<Double> weight = new ArrayList<>();
    for (int x = 0; x < n; x++) {
      if (solution.terminal[x]) {
        for (double g : solution.costGradient[x]) {
          if (solution.visitation[x] > 0 && g != 0) {
            throw new IllegalArgumentException("terminal state " + x + ": expected a final "
                + "cost independent of θ, got a gradient component " + g);
          }
        }
        continue;
      }
      for (int y = 0; y < n; y++) {
        double w = solution.visitation[x] * solution.transition[x][y];
        if (w > 0) {
          from.add(x);
          to.add(y);
          weight.add(w);
          advantage.add(solution.gamma * w * solution.value[y]);
        }
      }
    }
    ChainTransitions<Integer> transitions = new ChainTransitions<>(chain, from, to);
    return new Surrogate(transitions, transitions.chainCost(), solution.theta,
        advantage.stream().mapToDouble(Double::doubleValue).toArray(),
        weight.stream().mapToDouble(Double::doubleValue).toArray());
  }
}
