package io.dsogym.env;

import java.util.List;

/**
 * An env whose dynamics p(x'|x,a,φ) and step cost ℓ(x,a,φ) depend on parameters φ through a
 * known density (docs/math.md §2a, §10). With it θ can sit in the system as well as in the
 * policy: the chain's score gains ∇φ ln p(x'|x,a,φ) and its cost gains ∇φ ℓ(x,a,φ).
 *
 * <p>A transition is given as the env's observations before and after a step, flattened as a
 * policy reads them (a Box as it is, a Discrete one-hot), and the action as it was passed to
 * {@code step} (raw: the system clips it as its step does). The observation must therefore
 * determine the state. After a step that ended the episode, the observation after it is the
 * final observation, not the reset one.
 *
 * <p>φ is the concatenation of named {@link ParamBlock}s (for example A, B and Q of the LQR),
 * so that a run can train some blocks and hold the others.
 */
public interface ParametricSystem {
  /** A named part of φ, of {@code size} consecutive values. */
  record ParamBlock(String name, int size) {}

  /** φ's blocks in order; φ is their concatenation. */
  List<ParamBlock> systemParamBlocks();

  /** A copy of the current φ. */
  double[] systemParams();

  /**
   * Sets φ for the next steps. Validates it as a whole (its length, finiteness, and the
   * domain of each block, e.g. a positive mass) before changing anything.
   *
   * @throws IllegalArgumentException naming the block, what was expected and what came
   */
  void setSystemParams(double[] phi);

  /** ln p(x'|x,a,φ) of one recorded transition. */
  default double transitionLogDensity(double[] obs, int obsOff, double[] action, int actionOff,
      double[] nextObs, int nextOff, double[] phi) {
    return accumulateTransitionScore(obs, obsOff, action, actionOff, nextObs, nextOff, phi, 0,
        null, 0);
  }

  /**
   * grad[gradOff + j] += weight · ∂/∂φ_j ln p(x'|x,a,φ) for every j of φ; returns
   * ln p(x'|x,a,φ). {@code grad} may be null when {@code weight} is 0 (the density alone).
   */
  double accumulateTransitionScore(double[] obs, int obsOff, double[] action, int actionOff,
      double[] nextObs, int nextOff, double[] phi, double weight, double[] grad, int gradOff);

  /**
   * ℓ(x,a,x',φ), the step cost: the negated reward the env returns for this step (it may
   * depend on x', e.g. a cost for entering a terminal state; docs/math.md §2a folds it in).
   */
  default double stepCost(double[] obs, int obsOff, double[] action, int actionOff,
      double[] nextObs, int nextOff, double[] phi) {
    return accumulateCostGradient(obs, obsOff, action, actionOff, nextObs, nextOff, phi, 0,
        null, 0);
  }

  /**
   * grad[gradOff + j] += weight · ∂ℓ(x,a,x',φ)/∂φ_j; returns ℓ(x,a,x',φ). {@code grad} may be
   * null when {@code weight} is 0.
   */
  double accumulateCostGradient(double[] obs, int obsOff, double[] action, int actionOff,
      double[] nextObs, int nextOff, double[] phi, double weight, double[] grad, int gradOff);
}
