package io.dsogym.chain;

/**
 * The θ-dependent part of the chain cost L(x_i,θ) at the recorded states (docs/math.md §1a): the
 * regularizers of §2e (entropy) and §2f (KL), or a known chain's own cost. The surrogate adds
 * Σ κ_i [L(x_i,θ) - L(x_i,θ_k)] to its ratio term (§4b).
 */
public interface StateCost {
  /** L(x_i,θ). */
  double cost(double[] theta, int i);

  /** grad += weight · ∇θ L(x_i,θ); returns L(x_i,θ). */
  double accumulateGradient(double[] theta, int i, double weight, double[] grad);

  /**
   * costs[k - from] = L(x_i,θ) for i = order[k], k in [from, to), and unless grad is null,
   * grad += Σ_k weight[k - from] · ∇θ L(x_i,θ) (weight is not read when grad is null): a
   * minibatch in one call, which a cost on a network's outputs evaluates in one forward and one
   * backward pass. By default one state at a time.
   */
  default void accumulateGradients(double[] theta, int[] order, int from, int to,
      double[] weight, double[] grad, double[] costs) {
    for (int k = from; k < to; k++) {
      int i = order[k];
      costs[k - from] = grad == null ? cost(theta, i)
          : accumulateGradient(theta, i, weight[k - from], grad);
    }
  }

  /** No θ-dependent cost. */
  StateCost NONE = new StateCost() {
    @Override
    public double cost(double[] theta, int i) {
      return 0;
    }

    @Override
    public double accumulateGradient(double[] theta, int i, double weight, double[] grad) {
      return 0;
    }

    @Override
    public void accumulateGradients(double[] theta, int[] order, int from, int to,
        double[] weight, double[] grad, double[] costs) {
      java.util.Arrays.fill(costs, 0, to - from, 0.0);
    }
  };

  /** The sum of two costs. */
  default StateCost plus(StateCost other) {
    if (other == NONE) {
      return this;
    }
    if (this == NONE) {
      return other;
    }
    StateCost self = this;
    return new StateCost() {
      @Override
      public double cost(double[] theta, int i) {
        return self.cost(theta, i) + other.cost(theta, i);
      }

      @Override
      public double accumulateGradient(double[] theta, int i, double weight, double[] grad) {
        return self.accumulateGradient(theta, i, weight, grad)
            + other.accumulateGradient(theta, i, weight, grad);
      }

      private double[] second = new double[0];

      @Override
      public void accumulateGradients(double[] theta, int[] order, int from, int to,
          double[] weight, double[] grad, double[] costs) {
        if (second.length < to - from) {
          second = new double[to - from];
        }
        self.accumulateGradients(theta, order, from, to, weight, grad, costs);
        other.accumulateGradients(theta, order, from, to, weight, grad, second);
        for (int k = 0; k < to - from; k++) {
          costs[k] += second[k];
        }
      }
    };
  }
}
