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
    };
  }
}
