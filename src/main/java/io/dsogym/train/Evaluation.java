package io.dsogym.train;

/**
 * How a run on a chain source is judged when its chain cost is not the judge: the returns of
 * episodes played at θ (behavioural cloning trains on an imitation loss and is judged by the
 * env's return). A policy loop's own evaluation is {@link Evaluator}'s.
 */
@FunctionalInterface
public interface Evaluation {
  /** The undiscounted returns of the evaluation episodes at θ, their resets seeded by seed. */
  double[] returns(double[] theta, long seed) throws Exception;
}
