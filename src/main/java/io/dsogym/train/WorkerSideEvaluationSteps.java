package io.dsogym.train;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.Space;
import io.dsogym.policy.ObservationEncoder;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.PolicySpec;
import io.dsogym.remote.RemoteVectorEnv;
import io.dsogym.remote.WorkerTrajectory;
import io.dsogym.wire.PolicyCodec;
import io.dsogym.wire.RemoteEnvException;
import io.dsogym.wire.v1.CollectRequest;
import io.grpc.Status;

/**
 * An evaluation's steps from a Python worker that computes the deterministic action itself
 * (CollectRequest.deterministic, capability {@value RemoteVectorEnv#DETERMINISTIC_COLLECT}),
 * {@link #STEPS_PER_REQUEST} steps per round trip instead of one; {@link Evaluator} tallies
 * them exactly as the server's own steps. The policy goes with the first request after each
 * reset (each evaluation has its own θ). Not thread-safe.
 */
public final class WorkerSideEvaluationSteps implements Evaluator.Steps {
  /**
   * Steps per request: a round trip costs a few vector steps of CartPole, and the steps run
   * after the last episode ended (at most this many) are wasted.
   */
  static final int STEPS_PER_REQUEST = 64;
  /** A reply's observations stay under about this many bytes (the message limit is larger). */
  private static final int REPLY_BUDGET_BYTES = 1 << 20;

  private final RemoteVectorEnv env;
  private final PolicySpec spec;
  private final ObservationEncoder encoder;
  private final int lanes;
  private final int stepsPerRequest;
  private long version;  // of the policy sent last; the worker's replies must carry it
  private double[] sentTheta;  // null: the next request carries the policy
  private ObservationNormalizer sentNormalizer;

  /**
   * @throws IllegalArgumentException when the worker lacks the capability, the lanes are not
   *     SAME_STEP, or the spaces do not fit the policy
   */
  public WorkerSideEvaluationSteps(RemoteVectorEnv env, PolicySpec spec) {
    if (!env.supportsDeterministicCollect()) {
      throw new IllegalArgumentException(env.info().describe() + ": worker-side evaluation "
          + "expected a worker with the capabilities " + RemoteVectorEnv.WORKER_INFERENCE
          + " and " + RemoteVectorEnv.DETERMINISTIC_COLLECT + ", got "
          + env.info().capabilities());
    }
    if (env.autoresetMode() != AutoresetMode.SAME_STEP) {
      throw new IllegalArgumentException("env autoreset mode: expected SAME_STEP, got "
          + env.autoresetMode());
    }
    if (!(env.spec().observationSpace() instanceof Space.Box box)
        || box.size() != spec.obsDim()) {
      throw new IllegalArgumentException("observation space: expected a Box of "
          + spec.obsDim() + " elements (the policy's obsDim), got "
          + env.spec().observationSpace());
    }
    this.env = env;
    this.spec = spec;
    this.encoder = ObservationEncoder.forSpace(env.spec().observationSpace());
    this.lanes = env.numEnvs();
    long perStep = 16L * lanes * spec.obsDim();  // an observation and a final one, as doubles
    this.stepsPerRequest = (int) Math.max(1, Math.min(STEPS_PER_REQUEST,
        REPLY_BUDGET_BYTES / perStep));
  }

  @Override
  public int numLanes() {
    return lanes;
  }

  @Override
  public String describe() {
    return env.describe();
  }

  @Override
  public double[] reset(long seed) {
    sentTheta = null;
    return encoder.encode(env.reset(new long[] {seed}).observations(), lanes,
        "reset observations");
  }

  @Override
  public Evaluator.Chunk next(double[] theta, ObservationNormalizer normalizer) {
    CollectRequest.Builder request = CollectRequest.newBuilder()
        .setStepsPerLane(stepsPerRequest).setDeterministic(true);
    boolean send = theta != sentTheta || normalizer != sentNormalizer;
    if (send) {
      request.setPolicy(PolicyCodec.encode(spec, theta, normalizer, version + 1));
    }
    WorkerTrajectory t;
    try {
      t = env.collect(request.build());
    } catch (RuntimeException e) {
      sentTheta = null;  // the worker may or may not have the policy: send it again
      throw e;
    }
    if (send) {
      version++;
      sentTheta = theta;
      sentNormalizer = normalizer;
    }
    if (t.policyVersion() != version) {
      sentTheta = null;
      throw new RemoteEnvException(Status.Code.INTERNAL, "", env.info().describe()
          + ": trajectory.policy_version: expected " + version + " (the policy sent last), got "
          + t.policyVersion(), "");
    }
    int k = t.stepsPerLane();
    int rowSize = lanes * spec.obsDim();
    // the observation after step j is x of step j + 1, or the last observations after the last
    double[] seen = new double[(k + 1) * rowSize];
    t.observations().copyTo(seen, 0);
    t.lastObservations().copyTo(seen, k * rowSize);
    double[] after = java.util.Arrays.copyOfRange(seen, rowSize, seen.length);
    boolean[] ended = new boolean[k * lanes];
    for (int i = 0; i < ended.length; i++) {
      ended[i] = t.terminated()[i] || t.truncated()[i];
    }
    return new Evaluator.Chunk(k, t.rewards(), ended, after);
  }
}
