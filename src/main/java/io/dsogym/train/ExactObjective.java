package io.dsogym.train;

/**
 * J at a training run's θ computed by an exact solver rather than sampled, with the optimum J*
 * it is compared against (docs/math.md §1a, §1b). A run reports it where one exists: the
 * known-MDP and LQR envs (see {@link ExactObjectives}).
 */
public interface ExactObjective {
  /** J(θ) of the policy at θ, as the run's current observation statistics present x to it. */
  double objective(double[] theta);

  /** J*: the optimum over all policies. */
  double optimum();

  /** What the objective is, for the console ("discounted J, γ = 0.99, policy iteration"). */
  String describe();
}
