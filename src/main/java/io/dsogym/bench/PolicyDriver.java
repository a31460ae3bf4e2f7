package io.dsogym.bench;

import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
import io.dsogym.policy.EnvActions;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.Policies;
import io.dsogym.policy.PolicySpec;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Drives a {@link VectorEnv} with a linear {@link MlpPolicy} (the trainer's own policy family,
 * softmax or Gaussian) sampled in Java for every lane (server-side inference, as
 * {@link io.dsogym.collect.ServerSideCollector} does) and keeps the figures the rollout and bench
 * commands print: env steps, finished episodes and their returns, and optionally the latency
 * of every step.
 */
public final class PolicyDriver {
  private final VectorEnv env;
  private final MlpPolicy policy;
  private final double[] theta;
  private final SplittableRandom rng;
  private final double[] laneReturn;
  private final double[] actions;
  private final int obsDim;
  private final int actDim;
  private double[] observations;

  public long envSteps;
  public long episodes;
  double returnSum;
  double returnSqSum;

  public PolicyDriver(VectorEnv env, long seed) {
    this.env = env;
    this.policy = Policies.forEnv(env.spec(), List.of(), PolicySpec.Activation.TANH, 0.0);
    this.theta = policy.initialTheta(seed);
    this.rng = new SplittableRandom(seed);
    this.laneReturn = new double[env.numEnvs()];
    this.obsDim = policy.obsDim();
    this.actDim = policy.actionDim();
    this.actions = new double[env.numEnvs() * actDim];
    this.observations = flat(env.reset(new long[] {seed}).observations());
  }

  /**
   * Steps every lane {@code vectorSteps} times.
   *
   * @param latenciesNanos when not null, receives the duration of each step call
   */
  public void run(long vectorSteps, long[] latenciesNanos) {
    Space actionSpace = env.spec().actionSpace();
    int lanes = laneReturn.length;
    for (long k = 0; k < vectorSteps; k++) {
      for (int lane = 0; lane < lanes; lane++) {
        policy.sample(theta, observations, lane * obsDim, rng, actions, lane * actDim);
      }
      Value envActions = EnvActions.toEnv(actionSpace, actions, lanes, actDim);
      long t0 = System.nanoTime();
      VectorEnv.VectorStepResult r = env.stepWithoutInfo(envActions);
      if (latenciesNanos != null) {
        latenciesNanos[(int) k] = System.nanoTime() - t0;
      }
      record(r);
    }
  }

  /** Steps until {@code seconds} of wall time have passed; returns the vector steps taken. */
  public long runFor(double seconds) {
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    long steps = 0;
    while (System.nanoTime() < deadline) {
      run(8, null);
      steps += 8;
    }
    return steps;
  }

  private void record(VectorEnv.VectorStepResult r) {
    observations = flat(r.observations());
    int n = laneReturn.length;
    envSteps += n;
    for (int i = 0; i < n; i++) {
      laneReturn[i] += r.rewards()[i];
      if (r.terminated()[i] || r.truncated()[i]) {
        episodes++;
        returnSum += laneReturn[i];
        returnSqSum += laneReturn[i] * laneReturn[i];
        laneReturn[i] = 0;
      }
    }
  }

  public double meanReturn() {
    return episodes == 0 ? Double.NaN : returnSum / episodes;
  }

  public double stdReturn() {
    if (episodes == 0) {
      return Double.NaN;
    }
    double m = meanReturn();
    return Math.sqrt(Math.max(0, returnSqSum / episodes - m * m));
  }

  private static double[] flat(Value v) {
    if (v instanceof Tensor t) {
      return t.toDoubleArray();
    }
    throw new IllegalArgumentException("observations: expected a Box tensor for the linear "
        + "policy, got a structured value");
  }

  /** The q-quantile (0..1) of the first {@code count} values, in microseconds. */
  public static double quantileMicros(long[] nanos, int count, double q) {
    long[] sorted = Arrays.copyOf(nanos, count);
    Arrays.sort(sorted);
    int idx = (int) Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1));
    return sorted[idx] / 1000.0;
  }
}
