package io.dsogym.remote;

import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.collect.Collector;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policy;
import io.dsogym.policy.PolicySpec;
import io.dsogym.wire.PolicyCodec;
import io.dsogym.wire.RemoteEnvException;
import io.dsogym.wire.v1.CollectRequest;
import io.grpc.Status;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Worker-side inference, the fast path of {@link Collector}: the Python worker samples every
 * action with numpy from the policy parameters it was sent and runs K steps of its lanes per
 * request, so there is one round trip per K steps instead of one per step. The chain
 * transitions are rebuilt here from the recorded trajectory (docs/math.md §2a), and ln pi of each
 * recorded action is computed here with the Java {@link Policy} on the normalized
 * observation, so the score and the recorded ln pi come from the same code as with
 * server-side inference.
 *
 * <p>For an MLP policy a collect of K steps goes out as a few requests of about
 * {@value #PART_STEPS} steps (at most {@value #MAX_PARTS}) through
 * {@link RemoteVectorEnv#collectAll}, so the worker runs the next part while this side
 * computes ln pi of the last one: for a 64x64 MLP on CartPole that costs about as much as the
 * env steps. A linear policy's ln pi is cheap and each extra message costs a few milliseconds
 * of Python gRPC latency, so its collects are one request ({@link #setRequestsPerCollect}
 * overrides either choice).
 *
 * <p>The policy is sent only when theta or the normalizer's statistics changed since the last
 * successful collect (compared by value, so callers need not track versions); each send gets
 * the next version number, and the reply must have been sampled by that version. After a
 * failed collect everything is sent again.
 *
 * <p><b>Collect-ahead</b> ({@link #setCollectAhead}, off by default): each call first submits
 * the next chunk under the theta it was given, then returns the chunk submitted by the previous
 * call, so the worker steps the next chunk while the caller learns from this one and never
 * waits for the update (nor for this side's decoding). The price is one update of staleness:
 * from the second call on, a batch was sampled under the previous call's theta; it is marked
 * {@link TrajectoryBatch#offChain} and its ln pi is that behaviour policy's, which the
 * surrogate's ratios correct for (docs/math.md §4b). The default waits for the update instead, so
 * every batch is on-chain.
 *
 * <p>Needs a worker with the capability "worker_inference", SAME_STEP autoreset, a Box
 * observation space of {@code policy.obsDim()} elements and an action space matching the
 * policy's head (Discrete of n = outputs for CATEGORICAL, Box of outputs elements for
 * GAUSSIAN). Not thread-safe.
 */
public final class WorkerSideCollector implements Collector {
  /** Steps per request the parts of an MLP policy's collect aim at. */
  static final int PART_STEPS = 64;
  /** At most this many requests per collect. */
  static final int MAX_PARTS = 4;

  private final RemoteVectorEnv env;
  private final Policy policy;
  private final PolicySpec spec;
  private final long samplerSeed;
  private final int lanes;
  private final int obsDim;
  private final int actDim;
  private final double[] z;
  private final int[] episodeStep;
  private boolean wasReset;
  private boolean seedSent;
  private long version;  // of the last policy the worker acknowledged; 0: none
  private long policySends;
  private double[] sentTheta;
  private boolean sentNormalized;
  private double[] sentMean;
  private double[] sentVar;
  private double sentClip;
  private WorkerTrajectory last;
  private double workerEnvSeconds;
  private double workerPolicySeconds;
  private int requestsPerCollect;  // 0: automatic
  private boolean collectAhead;
  /** The policy each submitted collect-ahead chunk will be sampled under, oldest first. */
  private final ArrayDeque<Behaviour> behaviours = new ArrayDeque<>();

  /** A policy as sent to the worker: the version it answers with, theta, the statistics. */
  private record Behaviour(long version, double[] theta, ObservationNormalizer normalizer) {}

  /**
   * @param samplerSeed seeds the worker's numpy Generator (sent with the first collect); the
   *     lanes' own randomness is seeded by {@link #reset}
   */
  public WorkerSideCollector(RemoteVectorEnv env, Policy policy, long samplerSeed) {
    this.env = env;
    this.policy = policy;
    this.spec = policy.spec();
    this.samplerSeed = samplerSeed;
    if (!env.supportsWorkerInference()) {
      throw new IllegalArgumentException(env.info().describe() + ": expected a worker with "
          + "the capability " + RemoteVectorEnv.WORKER_INFERENCE + ", got capabilities "
          + env.info().capabilities());
    }
    if (env.autoresetMode() != AutoresetMode.SAME_STEP) {
      throw new IllegalArgumentException("env autoreset mode: expected SAME_STEP (each ended "
          + "lane's final observation is its x'), got " + env.autoresetMode());
    }
    checkSpaces(env, spec);
    this.lanes = env.numEnvs();
    this.obsDim = spec.obsDim();
    this.actDim = spec.actionDim();
    this.z = new double[obsDim];
    this.episodeStep = new int[lanes];
  }

  private static void checkSpaces(RemoteVectorEnv env, PolicySpec spec) {
    Space obs = env.spec().observationSpace();
    if (!(obs instanceof Space.Box box) || box.size() != spec.obsDim()) {
      throw new IllegalArgumentException("observation space: expected a Box of "
          + spec.obsDim() + " elements (the policy's obsDim), got " + obs);
    }
    Space act = env.spec().actionSpace();
    boolean fits = spec.head() == PolicySpec.Head.CATEGORICAL
        ? act instanceof Space.Discrete d && d.n() == spec.outputs()
        : act instanceof Space.Box b && b.size() == spec.outputs();
    if (!fits) {
      throw new IllegalArgumentException("action space: expected "
          + (spec.head() == PolicySpec.Head.CATEGORICAL ? "Discrete(" + spec.outputs() + ")"
              : "a Box of " + spec.outputs() + " elements") + " for the policy's "
          + spec.head() + " head, got " + act);
    }
  }

  /** Resets every lane (lane i seeded seed + i); called once before the first collect. */
  public void reset(long seed) {
    env.reset(new long[] {seed});
    Arrays.fill(episodeStep, 0);
    wasReset = true;
  }

  @Override
  public String describe() {
    return env.describe();
  }

  @Override
  public int numLanes() {
    return lanes;
  }

  /** The last part of the last collect as the worker sent it, or null. */
  public WorkerTrajectory lastTrajectory() {
    return last;
  }

  /**
   * How many requests a collect is split into (pipelined); 0 (the default) chooses: one for a
   * linear policy, about K / {@value #PART_STEPS} (at most {@value #MAX_PARTS}) for an MLP.
   */
  public void setRequestsPerCollect(int requests) {
    if (requests < 0) {
      throw new IllegalArgumentException("requests per collect: expected >= 0 (0: automatic), "
          + "got " + requests);
    }
    requestsPerCollect = requests;
  }

  /**
   * Collect-ahead (see the class comment): batches after the first are one update stale and
   * marked {@link TrajectoryBatch#offChain}. Each collect is then one request, whatever
   * {@link #setRequestsPerCollect} says: the whole of this side's work already overlaps the
   * worker's next chunk. Turning it off drops the chunk already submitted (the worker has
   * stepped it; nobody reads it).
   */
  public void setCollectAhead(boolean on) {
    if (!on && collectAhead) {
      dropSubmitted();
    }
    collectAhead = on;
  }

  public boolean collectAhead() {
    return collectAhead;
  }

  /** The number of requests a collect of {@code stepsPerLane} steps is split into. */
  public int requestsPerCollect(int stepsPerLane) {
    int parts = requestsPerCollect > 0 ? requestsPerCollect : spec.hidden().isEmpty() ? 1
        : Math.min(MAX_PARTS, Math.round(stepsPerLane / (float) PART_STEPS));
    return Math.max(1, Math.min(parts, stepsPerLane));
  }

  /** The worker's wall time inside env steps, summed over every collect so far. */
  public double workerEnvSeconds() {
    return workerEnvSeconds;
  }

  /** The worker's wall time sampling and recording, summed over every collect so far. */
  public double workerPolicySeconds() {
    return workerPolicySeconds;
  }

  /** How many times the policy was sent (once per change of theta or the normalizer). */
  public long policySends() {
    return policySends;
  }

  /**
   * {@inheritDoc}
   *
   * @param normalizer null: the policy sees raw observations
   * @throws IllegalArgumentException for a theta of the wrong length or a normalizer of the
   *     wrong dimension (nothing is sent)
   */
  @Override
  public void collect(double[] theta, ObservationNormalizer normalizer, int stepsPerLane,
      TrajectoryBatch out) {
    if (!wasReset) {
      throw new IllegalStateException("collect before reset: call reset(seed) first");
    }
    if (stepsPerLane < 1) {
      throw new IllegalArgumentException("steps_per_lane: expected >= 1, got " + stepsPerLane);
    }
    if (theta.length != spec.numParams()) {
      throw new IllegalArgumentException("theta: expected " + spec.numParams() + " values for "
          + spec + ", got " + theta.length);
    }
    if (out.obsDim != obsDim || out.actionDim != actDim) {
      throw new IllegalArgumentException("batch: expected obsDim " + obsDim + " and actionDim "
          + actDim + ", got " + out.obsDim + " and " + out.actionDim);
    }
    ObservationNormalizer active = normalizer != null && normalizer.enabled() ? normalizer
        : null;
    if (collectAhead) {
      collectAhead(theta, active, stepsPerLane, out);
      return;
    }
    out.offChain = false;
    boolean send = changed(theta, active);
    long sending = send ? version + 1 : version;
    CollectRequest.Builder request = request(theta, active, stepsPerLane, send, sending);
    List<CollectRequest> requests = new ArrayList<>();
    int parts = requestsPerCollect(stepsPerLane);
    for (int p = 0; p < parts; p++) {
      int steps = stepsPerLane / parts + (p < stepsPerLane % parts ? 1 : 0);
      requests.add((p == 0 ? request : CollectRequest.newBuilder()).setStepsPerLane(steps)
          .build());
    }
    out.ensureCapacity(lanes, stepsPerLane);
    int[] row = {0};
    try {
      env.collectAll(requests, t -> {
        if (row[0] == 0) {
          seedSent = true;
          if (send) {
            remember(theta, active, sending);
          }
        }
        if (t.policyVersion() != version) {
          throw new RemoteEnvException(Status.Code.INTERNAL, "", env.info().describe()
              + ": trajectory.policy_version: expected " + version + " (the policy sent last), "
              + "got " + t.policyVersion(), "");
        }
        fill(t, row[0], theta, active, out);
        row[0] += t.stepsPerLane();
        last = t;
        workerEnvSeconds += t.envSeconds();
        workerPolicySeconds += t.policySeconds();
      });
    } catch (RuntimeException e) {
      sentTheta = null;  // the worker may or may not have the policy: send it again
      throw e;
    }
  }

  /**
   * Submits the next chunk under (theta, normalizer) (first, when nothing is submitted, also
   * the chunk to return now), then waits for the oldest submitted chunk and fills the batch
   * with it under the policy it was sampled with.
   */
  private void collectAhead(double[] theta, ObservationNormalizer normalizer, int stepsPerLane,
      TrajectoryBatch out) {
    try {
      if (behaviours.isEmpty()) {
        submit(theta, normalizer, stepsPerLane);
      }
      submit(theta, normalizer, stepsPerLane);
      fillNext(out);
    } catch (RuntimeException e) {
      dropSubmitted();
      throw e;
    }
  }

  /**
   * Empties the collect-ahead pipeline: waits for the chunk the last collect submitted and
   * fills {@code out} with it (marked off-chain when theta changed since), submitting nothing
   * new. Returns false, leaving {@code out} alone, when nothing was submitted. The next
   * collect then starts the pipeline again. For a caller that stops collecting for a while
   * and must not leave the worker stepping unseen meanwhile (the bench between windows).
   */
  public boolean awaitSubmitted(TrajectoryBatch out) {
    if (behaviours.isEmpty()) {
      return false;
    }
    try {
      fillNext(out);
      return true;
    } catch (RuntimeException e) {
      dropSubmitted();
      throw e;
    }
  }

  /** Waits for the oldest submitted chunk and fills the batch under its behaviour policy. */
  private void fillNext(TrajectoryBatch out) {
    WorkerTrajectory t = env.awaitCollect();
    Behaviour b = behaviours.poll();
    if (t.policyVersion() != b.version()) {
      throw new RemoteEnvException(Status.Code.INTERNAL, "", env.info().describe()
          + ": trajectory.policy_version: expected " + b.version() + " (the policy in "
          + "force when the chunk was submitted), got " + t.policyVersion(), "");
    }
    out.ensureCapacity(lanes, t.stepsPerLane());
    fill(t, 0, b.theta(), b.normalizer(), out);
    out.offChain = b.version() != version;
    last = t;
    workerEnvSeconds += t.envSeconds();
    workerPolicySeconds += t.policySeconds();
  }

  /** Sends one collect-ahead request, with the policy when it changed since the last send. */
  private void submit(double[] theta, ObservationNormalizer normalizer, int stepsPerLane) {
    boolean send = changed(theta, normalizer);
    long sending = send ? version + 1 : version;
    env.submitCollect(request(theta, normalizer, stepsPerLane, send, sending).build());
    seedSent = true;
    if (send) {
      remember(theta, normalizer, sending);  // queued behind the last one: in force from now
    }
    behaviours.add(new Behaviour(sending, theta.clone(), snapshot(normalizer)));
  }

  private static ObservationNormalizer snapshot(ObservationNormalizer normalizer) {
    if (normalizer == null) {
      return null;
    }
    ObservationNormalizer copy = new ObservationNormalizer(normalizer.dim(), true,
        normalizer.clip());
    copy.set(normalizer.mean(), normalizer.var(), normalizer.count());
    return copy;
  }

  /** Abandons the submitted chunks; the next policy is sent again. */
  private void dropSubmitted() {
    env.abandonSubmitted();
    behaviours.clear();
    sentTheta = null;
  }

  /**
   * A collect of {@code steps} steps, carrying the policy as version {@code sending} when
   * {@code send}, and the sampler's seed until one was sent.
   */
  private CollectRequest.Builder request(double[] theta, ObservationNormalizer normalizer,
      int steps, boolean send, long sending) {
    CollectRequest.Builder request = CollectRequest.newBuilder().setStepsPerLane(steps);
    if (send) {
      request.setPolicy(PolicyCodec.encode(spec, theta, normalizer, sending));
    }
    if (!seedSent) {
      request.setSeed(samplerSeed);
    }
    return request;
  }

  private boolean changed(double[] theta, ObservationNormalizer normalizer) {
    if (sentTheta == null || !Arrays.equals(sentTheta, theta)) {
      return true;
    }
    if (normalizer == null) {
      return sentNormalized;
    }
    return !sentNormalized || sentClip != normalizer.clip()
        || !Arrays.equals(sentMean, normalizer.mean()) || !Arrays.equals(sentVar,
        normalizer.var());
  }

  private void remember(double[] theta, ObservationNormalizer normalizer, long sentVersion) {
    sentTheta = theta.clone();
    sentNormalized = normalizer != null;
    sentMean = normalizer == null ? null : normalizer.mean();
    sentVar = normalizer == null ? null : normalizer.var();
    sentClip = normalizer == null ? 0 : normalizer.clip();
    version = sentVersion;
    policySends++;
  }

  /**
   * The chain transitions of one part, rows {@code first ..} of the batch, with ln pi of each
   * recorded action under theta.
   */
  private void fill(WorkerTrajectory t, int first, double[] theta,
      ObservationNormalizer normalizer, TrajectoryBatch out) {
    int k = t.stepsPerLane();
    int n = lanes;
    int d = obsDim;
    int base = first * n;  // the part's first transition in the batch
    t.observations().copyTo(out.obs, base * d);
    // x' of step k is x of step k + 1 (step-major rows), the last observations after the
    // last step, and the final observation wherever the step ended an episode
    System.arraycopy(out.obs, (base + n) * d, out.nextObs, base * d, (k - 1) * n * d);
    t.lastObservations().copyTo(out.nextObs, (base + (k - 1) * n) * d);
    Tensor finals = t.finalObservations();
    int[] ended = t.endedIndices();
    for (int e = 0; e < ended.length; e++) {
      int at = (base + ended[e]) * d;
      for (int j = 0; j < d; j++) {
        out.nextObs[at + j] = finals.getDouble(e * d + j);
      }
    }
    t.actions().copyTo(out.actions, base * actDim);
    double[] rewards = t.rewards();
    for (int r = 0; r < n * k; r++) {
      int i = base + r;
      int lane = r % n;
      out.cost[i] = -rewards[r];
      out.terminated[i] = t.terminated()[r];
      out.truncated[i] = t.truncated()[r];
      out.episodeStep[i] = episodeStep[lane];
      episodeStep[lane] = out.ended(i) ? 0 : episodeStep[lane] + 1;
      double[] x = out.obs;
      int xOff = i * d;
      if (normalizer != null) {
        normalizer.normalize(out.obs, i * d, z, 0);
        x = z;
        xOff = 0;
      }
      out.logProb[i] = policy.logProb(theta, x, xOff, out.actions, i * actDim);
    }
  }

  @Override
  public void close() {
    env.close();
  }
}
