package io.dsogym.train;

import io.dsogym.collect.NonFiniteValueException;
import io.dsogym.env.Space;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
import io.dsogym.policy.ObservationEncoder;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.EnvActions;
import io.dsogym.policy.Policy;

/**
 * Evaluates a policy's deterministic action (argmax or mean, as RL Baselines3 Zoo evaluates)
 * over a number of whole episodes on dedicated lanes, so training episodes are not disturbed.
 * Every lane is given the same quota of episodes, so short episodes are not over-counted.
 */
public final class Evaluator {
  private Evaluator() {}

  /** Returns the undiscounted return of each of {@code episodes} episodes. */
  public static double[] evaluate(VectorEnv env, Policy policy, double[] theta,
      ObservationNormalizer normalizer, int episodes, long seed) {
    int lanes = env.numEnvs();
    int obsDim = policy.obsDim();
    int actDim = policy.actionDim();
    int[] quota = new int[lanes];
    for (int e = 0; e < episodes; e++) {
      quota[e % lanes]++;
    }
    double[] returns = new double[episodes];
    double[] running = new double[lanes];
    double[] z = new double[obsDim];
    double[] actions = new double[lanes * actDim];
    Space actionSpace = env.spec().actionSpace();
    ObservationEncoder encoder = ObservationEncoder.forSpace(env.spec().observationSpace());
    double[] obs = encoder.encode(env.reset(new long[] {seed}).observations(), lanes,
        "reset observations");
    String source = env.describe() + " (evaluation)";
    requireFinite(obs, null, source, obsDim, 0);
    int done = 0;
    for (int step = 1; done < episodes; step++) {
      for (int lane = 0; lane < lanes; lane++) {
        normalizer.normalize(obs, lane * obsDim, z, 0);
        policy.mode(theta, z, 0, actions, lane * actDim);
      }
      Value envActions = EnvActions.toEnv(actionSpace, actions, lanes, actDim);
      VectorEnv.VectorStepResult r = env.stepWithoutInfo(envActions);
      obs = encoder.encode(r.observations(), lanes, "step observations");
      requireFinite(obs, r.rewards(), source, obsDim, step);
      for (int lane = 0; lane < lanes; lane++) {
        if (quota[lane] == 0) {
          continue;
        }
        running[lane] += r.rewards()[lane];
        if (r.terminated()[lane] || r.truncated()[lane]) {
          returns[done++] = running[lane];
          running[lane] = 0;
          quota[lane]--;
        }
      }
    }
    return returns;
  }

  /** A NaN or infinite observation or reward is refused, not averaged into the return. */
  private static void requireFinite(double[] obs, double[] rewards, String source, int obsDim,
      int step) {
    for (int lane = 0; lane < obs.length / obsDim; lane++) {
      NonFiniteValueException.requireFinite(obs, lane * obsDim, obsDim, "observation", source,
          lane, step);
      if (rewards != null) {
        NonFiniteValueException.requireFinite(rewards[lane], "reward", source, lane, step);
      }
    }
  }

  public static double mean(double[] xs) {
    double s = 0;
    for (double x : xs) {
      s += x;
    }
    return s / xs.length;
  }

  public static double std(double[] xs) {
    double m = mean(xs);
    double s = 0;
    for (double x : xs) {
      s += (x - m) * (x - m);
    }
    return Math.sqrt(s / xs.length);
  }
}
