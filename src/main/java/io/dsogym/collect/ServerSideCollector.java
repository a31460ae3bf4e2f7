package io.dsogym.collect;

import io.dsogym.chain.TrajectoryBatch;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.Space;
import io.dsogym.env.VectorEnv;
import io.dsogym.policy.ObservationEncoder;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policy;
import io.dsogym.policy.EnvActions;
import java.util.SplittableRandom;

/**
 * Server-side inference: each step the policy is evaluated in Java for every lane of a
 * {@link VectorEnv} (Java-native or a remote Python worker), the actions are sampled here, and
 * the closed loop is recorded as chain transitions (docs/math.md §2a, the sampled-action score of
 * §2c route 2). Works with any policy and any env, at the price of one env round trip per
 * vector step; worker-side inference is the fast path where the worker can run the policy.
 */
public final class ServerSideCollector implements Collector {
  private final VectorEnv env;
  private final Policy policy;
  private final SplittableRandom rng;
  private final int obsDim;
  private final int actDim;
  private final int lanes;
  private final double[] z;
  private final double[] stepActions;
  private final int[] episodeStep;
  private final ObservationEncoder encoder;
  private double[] currentObs;

  /** @param rng the sampler's randomness (the env's own is seeded by the caller's reset) */
  public ServerSideCollector(VectorEnv env, Policy policy, SplittableRandom rng) {
    if (env.autoresetMode() != AutoresetMode.SAME_STEP) {
      throw new IllegalArgumentException("env autoreset mode: expected SAME_STEP (each ended "
          + "lane's final observation is its x'), got " + env.autoresetMode());
    }
    this.env = env;
    this.policy = policy;
    this.rng = rng;
    this.obsDim = policy.obsDim();
    this.actDim = policy.actionDim();
    this.lanes = env.numEnvs();
    this.z = new double[obsDim];
    this.stepActions = new double[lanes * actDim];
    this.episodeStep = new int[lanes];
    this.encoder = ObservationEncoder.forSpace(env.spec().observationSpace());
    if (encoder.dim() != obsDim) {
      throw new IllegalArgumentException("observation space: expected " + obsDim
          + " encoded elements (the policy's obsDim), got " + encoder.dim() + " from "
          + env.spec().observationSpace());
    }
  }

  /** Resets every lane (lane i seeded seed + i); called once before the first collect. */
  public void reset(long seed) {
    currentObs = encoder.encode(env.reset(new long[] {seed}).observations(), lanes,
        "reset observations");
    java.util.Arrays.fill(episodeStep, 0);
  }

  @Override
  public String describe() {
    return env.describe();
  }

  @Override
  public int numLanes() {
    return lanes;
  }

  @Override
  public void collect(double[] theta, ObservationNormalizer normalizer, int stepsPerLane,
      TrajectoryBatch out) {
    if (currentObs == null) {
      throw new IllegalStateException("collect before reset: call reset(seed) first");
    }
    out.ensureCapacity(lanes, stepsPerLane);
    Space actionSpace = env.spec().actionSpace();
    for (int k = 0; k < stepsPerLane; k++) {
      int base = k * lanes;
      System.arraycopy(currentObs, 0, out.obs, base * obsDim, lanes * obsDim);
      for (int lane = 0; lane < lanes; lane++) {
        int i = base + lane;
        normalizer.normalize(currentObs, lane * obsDim, z, 0);
        out.logProb[i] = policy.sample(theta, z, 0, rng, stepActions, lane * actDim);
        out.episodeStep[i] = episodeStep[lane];
      }
      System.arraycopy(stepActions, 0, out.actions, base * actDim, lanes * actDim);
      VectorEnv.VectorStepResult r = env.stepWithoutInfo(EnvActions.toEnv(actionSpace,
          stepActions, lanes, actDim));
      double[] next = encoder.encode(r.observations(), lanes, "step observations");
      System.arraycopy(next, 0, out.nextObs, base * obsDim, lanes * obsDim);
      if (r.endedLanes().length > 0) {
        double[] finals = encoder.encode(r.finalObservations(), r.endedLanes().length,
            "final observations");
        for (int e = 0; e < r.endedLanes().length; e++) {
          System.arraycopy(finals, e * obsDim, out.nextObs, (base + r.endedLanes()[e]) * obsDim,
              obsDim);
        }
      }
      for (int lane = 0; lane < lanes; lane++) {
        int i = base + lane;
        out.cost[i] = -r.rewards()[lane];
        out.terminated[i] = r.terminated()[lane];
        out.truncated[i] = r.truncated()[lane];
        episodeStep[lane] = out.ended(i) ? 0 : episodeStep[lane] + 1;
      }
      currentObs = next;
    }
  }


  @Override
  public void close() {
    env.close();
  }
}
