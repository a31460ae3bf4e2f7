package io.dsogym.train;

import io.dsogym.collect.NonFiniteValueException;
import io.dsogym.env.Space;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
import io.dsogym.policy.ObservationEncoder;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.EnvActions;
import io.dsogym.policy.Policy;
import io.dsogym.remote.RemoteVectorEnv;

/**
 * Evaluates a policy's deterministic action (argmax or mean, as RL Baselines3 Zoo evaluates)
 * over a number of whole episodes on dedicated lanes, so training episodes are not disturbed.
 * Every lane is given the same quota of episodes, so short episodes are not over-counted.
 *
 * <p>The steps come from a {@link Steps}: the server's own ({@link ServerSideSteps}, one env
 * step per call) or a worker's that computes the deterministic action itself and runs K steps
 * per request ({@link WorkerSideEvaluationSteps}). Either way the episodes are tallied here,
 * step by step, so both give the same returns; steps after the last episode ended are dropped.
 */
public final class Evaluator {
  private Evaluator() {}

  /** Steps of N lanes under the policy's deterministic action, a chunk of steps at a time. */
  public interface Steps {
    int numLanes();

    /** Names the lanes in error messages. */
    String describe();

    /** Resets every lane (lane i seeded seed + i); returns the observations [N * obsDim]. */
    double[] reset(long seed);

    /** The next K >= 1 steps of every lane under the deterministic action at theta. */
    Chunk next(double[] theta, ObservationNormalizer normalizer);
  }

  /**
   * K steps of N lanes, step-major (index k * N + lane): the rewards, whether the step ended
   * an episode, and the observation after it [K * N * obsDim] (the reset one where it ended).
   */
  public record Chunk(int steps, double[] rewards, boolean[] ended, double[] observations) {}

  /**
   * The steps of evaluation lanes: the worker's (K steps per round trip) when {@code
   * workerInference} and the lanes are a worker with the capability {@value
   * RemoteVectorEnv#DETERMINISTIC_COLLECT}, else the server's (an older worker, Java lanes).
   *
   * @param policy this evaluation's own (policies keep work arrays)
   */
  public static Steps stepsFor(VectorEnv env, Policy policy, boolean workerInference) {
    if (workerInference && env instanceof RemoteVectorEnv remote
        && remote.supportsDeterministicCollect()) {
      return new WorkerSideEvaluationSteps(remote, policy.spec());
    }
    return new ServerSideSteps(env, policy);
  }

  /** Returns the undiscounted return of each of {@code episodes} episodes. */
  public static double[] evaluate(VectorEnv env, Policy policy, double[] theta,
      ObservationNormalizer normalizer, int episodes, long seed) {
    return evaluate(new ServerSideSteps(env, policy), policy.obsDim(), theta, normalizer,
        episodes, seed);
  }

  /** Returns the undiscounted return of each of {@code episodes} episodes. */
  public static double[] evaluate(Steps steps, int obsDim, double[] theta,
      ObservationNormalizer normalizer, int episodes, long seed) {
    int lanes = steps.numLanes();
    int[] quota = new int[lanes];
    for (int e = 0; e < episodes; e++) {
      quota[e % lanes]++;
    }
    double[] returns = new double[episodes];
    double[] running = new double[lanes];
    String source = steps.describe() + " (evaluation)";
    double[] obs = steps.reset(seed);
    requireFinite(obs, 0, null, source, obsDim, lanes, 0);
    int done = 0;
    for (int step = 0; done < episodes; ) {
      Chunk chunk = steps.next(theta, normalizer);
      for (int k = 0; k < chunk.steps() && done < episodes; k++) {
        step++;
        requireFinite(chunk.observations(), k * lanes, chunk.rewards(), source, obsDim, lanes,
            step);
        for (int lane = 0; lane < lanes; lane++) {
          if (quota[lane] == 0) {
            continue;
          }
          int i = k * lanes + lane;
          running[lane] += chunk.rewards()[i];
          if (chunk.ended()[i]) {
            returns[done++] = running[lane];
            running[lane] = 0;
            quota[lane]--;
          }
        }
      }
    }
    return returns;
  }

  /** The server computes each deterministic action and steps the lanes once per call. */
  public static final class ServerSideSteps implements Steps {
    private final VectorEnv env;
    private final Policy policy;
    private final ObservationEncoder encoder;
    private final Space actionSpace;
    private final double[] z;
    private final double[] actions;
    private double[] obs;

    public ServerSideSteps(VectorEnv env, Policy policy) {
      this.env = env;
      this.policy = policy;
      this.encoder = ObservationEncoder.forSpace(env.spec().observationSpace());
      this.actionSpace = env.spec().actionSpace();
      this.z = new double[policy.obsDim()];
      this.actions = new double[env.numEnvs() * policy.actionDim()];
    }

    @Override
    public int numLanes() {
      return env.numEnvs();
    }

    @Override
    public String describe() {
      return env.describe();
    }

    @Override
    public double[] reset(long seed) {
      obs = encoder.encode(env.reset(new long[] {seed}).observations(), numLanes(),
          "reset observations");
      return obs;
    }

    @Override
    public Chunk next(double[] theta, ObservationNormalizer normalizer) {
      int lanes = numLanes();
      int obsDim = policy.obsDim();
      int actDim = policy.actionDim();
      for (int lane = 0; lane < lanes; lane++) {
        normalizer.normalize(obs, lane * obsDim, z, 0);
        policy.mode(theta, z, 0, actions, lane * actDim);
      }
      Value envActions = EnvActions.toEnv(actionSpace, actions, lanes, actDim);
      VectorEnv.VectorStepResult r = env.stepWithoutInfo(envActions);
      obs = encoder.encode(r.observations(), lanes, "step observations");
      boolean[] ended = new boolean[lanes];
      for (int lane = 0; lane < lanes; lane++) {
        ended[lane] = r.terminated()[lane] || r.truncated()[lane];
      }
      return new Chunk(1, r.rewards(), ended, obs);
    }
  }

  /** A NaN or infinite observation or reward is refused, not averaged into the return. */
  private static void requireFinite(double[] obs, int first, double[] rewards, String source,
      int obsDim, int lanes, int step) {
    for (int lane = 0; lane < lanes; lane++) {
      NonFiniteValueException.requireFinite(obs, (first + lane) * obsDim, obsDim,
          "observation", source, lane, step);
      if (rewards != null) {
        NonFiniteValueException.requireFinite(rewards[first + lane], "reward", source, lane,
            step);
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
