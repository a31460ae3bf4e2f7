package io.dsogym.remote;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.LaneBook;
import io.dsogym.env.Space;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
import io.dsogym.wire.RemoteEnvException;
import io.dsogym.wire.EnvSpecCodec;
import io.dsogym.wire.ResultCodec;
import io.dsogym.wire.StatusMapping;
import io.dsogym.wire.ValueCodec;
import io.dsogym.env.EnvUnavailableException;
import io.dsogym.wire.v1.CloseRequest;
import io.dsogym.wire.v1.CollectRequest;
import io.dsogym.wire.v1.ConfigureRequest;
import io.dsogym.wire.v1.ServerCommand;
import io.dsogym.wire.v1.StepRequest;
import io.dsogym.wire.v1.WorkerMessage;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The {@link VectorEnv} backed by one connected worker (a Python process hosting N lanes).
 * Obtain it from {@link WorkerPool#awaitWorker}.
 *
 * <p>Each reset/step sends one command with a fresh id and blocks until the worker's reply with
 * that id arrives, the timeout passes (default 60 s) or the worker disconnects; the last two
 * throw {@link EnvUnavailableException} naming the worker and the command. The reply is
 * handed over from the gRPC thread that receives it straight to the waiting caller (one
 * hand-off, no executor in between).
 *
 * <p>Everything that can be checked locally is checked before sending, with the same messages
 * as {@link io.dsogym.env.SyncVectorEnv}: step before reset, actions outside the action space
 * (field "actions"; finite Box values past the bounds excepted, which the worker's env
 * handles as Gymnasium's envs do), seed and mask counts, stepping an ended lane in DISABLED mode. Bad input
 * therefore never reaches the worker and changes nothing. An error raised inside the worker's
 * env arrives as a {@link io.dsogym.wire.RemoteEnvException} with the remote exception type,
 * message and traceback.
 *
 * <p>Workers with the capability {@value #WORKER_INFERENCE} also run {@link #collect}: K steps
 * of every lane with actions sampled in the worker from policy parameters sent with the
 * request (worker-side inference; {@link io.dsogym.remote.WorkerSideCollector} drives it).
 *
 * <p>Workers with the capability {@value SharedMemoryRegion#CAPABILITY} on this machine get
 * their resets and steps through a shared-memory region instead of the stream (offered at the
 * first reset or step; docs/protocol.md, "Shared-memory steps"): the same messages, checks and
 * errors, and the stream's end still fails a pending call. {@link #transport} says which path
 * they take.
 *
 * <p>Calls are serialized: one request is in flight at a time, except within
 * {@link #collectAll}, which keeps the worker's next chunk queued.
 */
public final class RemoteVectorEnv implements VectorEnv {
  private static final Logger log = Logger.getLogger(RemoteVectorEnv.class.getName());
  /** How long {@link #close} waits for the worker to confirm. */
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);
  /** The capability of workers that serve {@link #collect}. */
  public static final String WORKER_INFERENCE = "worker_inference";
  /** The capability of workers that leave lanes unseeded when asked (ResetRequest.unseeded_lanes). */
  public static final String UNSEEDED_LANES = "unseeded_lanes";
  /** The capability of workers that collect the policy's deterministic action (evaluations). */
  public static final String DETERMINISTIC_COLLECT = "deterministic_collect";
  /** The capability of workers that serve {@link #configure}. */
  public static final String CONFIGURE = "configure";

  /** A command sent; {@code region} is the region it went through, or null (the stream). */
  private record Pending(long id, String what, CompletableFuture<WorkerMessage> reply,
      SharedMemoryRegion region) {}

  private final WorkerInfo info;
  private final CommandSink sink;
  private final BiConsumer<RemoteVectorEnv, Throwable> onClosed;
  private final ReentrantLock callLock = new ReentrantLock();
  private volatile Duration timeout;
  // Requests sent and not yet answered, by id: one, or two within collectAll.
  private final Map<Long, Pending> inFlight = new ConcurrentHashMap<>();
  private volatile Throwable failure;
  private volatile boolean closed;
  private long nextId = 1;  // 0 is the hello; guarded by callLock
  // The mode the worker runs: the handshake's, until configure changes it.
  private volatile AutoresetMode mode;
  // Local mirror of the lanes' state, for validating before sending; guarded by callLock.
  private LaneBook book;
  // Collects sent by submitCollect and not yet awaited, oldest first; guarded by callLock.
  private final ArrayDeque<Pending> submitted = new ArrayDeque<>();
  private final ArrayDeque<Integer> submittedSteps = new ArrayDeque<>();
  /** At most this many collects submitted and not awaited. */
  public static final int MAX_SUBMITTED = 2;
  // Capability "shm_steps": offered at the first reset or step, then resets and steps go
  // through the region; guarded by callLock. Null when not offered, refused or retired.
  private volatile SharedMemoryRegion region;  // volatile for transport()
  private boolean regionOffered;
  private boolean sharedMemorySteps = SharedMemoryRegion.supported();
  private String regionOutcome = "not offered yet";
  private volatile long regionCommands;
  private volatile long packedStepReplies;

  /**
   * Transport side: the server makes one per worker after the handshake.
   *
   * @param onClosed called when the env is closed (cause null) or the worker is gone (cause);
   *     may be called twice (a disconnect, then a close), so it must be idempotent
   */
  public RemoteVectorEnv(WorkerInfo info, CommandSink sink, Duration timeout,
      BiConsumer<RemoteVectorEnv, Throwable> onClosed) {
    this.info = Objects.requireNonNull(info, "info");
    this.sink = Objects.requireNonNull(sink, "sink");
    this.onClosed = onClosed == null ? (e, c) -> { } : onClosed;
    setTimeout(timeout);
    this.mode = info.autoresetMode();
    this.book = new LaneBook(info.numEnvs(), mode);
  }

  public WorkerInfo info() {
    return info;
  }

  /** "worker w-1 (host:pid, CartPole-v1 x 8)". */
  @Override
  public String describe() {
    return info.describe();
  }

  /** The id the server gave the worker. */
  public String workerId() {
    return info.id();
  }

  /** How long a request waits for the worker's reply before failing. */
  public void setTimeout(Duration timeout) {
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout: expected a positive duration, got " + timeout);
    }
    this.timeout = timeout;
  }

  public Duration timeout() {
    return timeout;
  }

  /** Whether the worker is still connected and the env not closed. */
  public boolean isAlive() {
    return !closed && failure == null;
  }

  @Override
  public EnvSpec spec() {
    return info.spec();
  }

  @Override
  public int numEnvs() {
    return info.numEnvs();
  }

  /** The mode the worker runs now: the handshake's ({@link WorkerInfo}), unless configured. */
  @Override
  public AutoresetMode autoresetMode() {
    return mode;
  }

  /** Whether the worker declared the capability {@value #CONFIGURE}. */
  public boolean supportsConfigure() {
    return info.capabilities().contains(CONFIGURE);
  }

  /**
   * Has the worker close its lanes and make them anew in {@code newMode} (ConfigureRequest):
   * every lane then needs a reset, and worker-side inference starts without a policy.
   *
   * @throws IllegalStateException when the worker lacks the capability {@value #CONFIGURE}
   */
  public void configure(AutoresetMode newMode) {
    Objects.requireNonNull(newMode, "newMode");
    callLock.lock();
    try {
      if (!supportsConfigure()) {
        throw new IllegalStateException(info.describe() + ": configure needs the worker "
            + "capability " + CONFIGURE + ", got capabilities " + info.capabilities());
      }
      checkNothingSubmitted("configure");
      call(ServerCommand.newBuilder().setConfigure(ConfigureRequest.newBuilder()
          .setAutoresetMode(EnvSpecCodec.encode(newMode))), "configure",
          WorkerMessage.MessageCase.CONFIGURED, false);
      mode = newMode;
      book = new LaneBook(numEnvs(), newMode);
    } finally {
      callLock.unlock();
    }
  }

  @Override
  public VectorResetResult reset(long[] seeds, Map<String, Object> options, boolean[] mask) {
    return reset(seeds, null, options, mask);
  }

  /** Passes the unseeded lanes on to the worker, whose Gymnasium vector env takes None seeds. */
  @Override
  public VectorResetResult reset(long[] seeds, boolean[] unseeded, Map<String, Object> options,
      boolean[] mask) {
    int n = numEnvs();
    callLock.lock();
    try {
      checkNothingSubmitted("reset");
      book.checkReset(seeds, mask);
      if (unseeded != null && !info.capabilities().contains(UNSEEDED_LANES)
          && java.util.stream.IntStream.range(0, unseeded.length).anyMatch(i -> unseeded[i])) {
        // an older worker ignores the field and would seed those lanes with 0
        throw new IllegalArgumentException("seeds: unseeded lanes need a worker with the "
            + "capability " + UNSEEDED_LANES + "; worker " + info.id() + " has "
            + info.capabilities() + " (an older dsogym), so seed every lane or none");
      }
      ServerCommand.Builder cmd = ServerCommand.newBuilder()
          .setReset(ResultCodec.encodeReset(seeds, unseeded, options, mask));
      WorkerMessage reply = call(cmd, "reset", WorkerMessage.MessageCase.RESET_RESULT, true);
      VectorResetResult result = decode(() -> ResultCodec.decode(reply.getResetResult(), n,
          "reset_result"), "reset");
      book.recordReset(mask);
      return result;
    } finally {
      callLock.unlock();
    }
  }

  @Override
  public VectorStepResult step(Value actions) {
    return step(actions, false);
  }

  /** Sends {@code StepRequest.omit_info}: the worker skips building info. */
  @Override
  public VectorStepResult stepWithoutInfo(Value actions) {
    return step(actions, true);
  }

  private VectorStepResult step(Value actions, boolean omitInfo) {
    int n = numEnvs();
    callLock.lock();
    try {
      checkNothingSubmitted("step");
      // Finite Box values outside the bounds go to the worker's env, which handles them as in
      // Gymnasium (Pendulum clips them, MuJoCo clamps them to its ctrlrange, an env that
      // refuses them answers with an in-band error); every other check stays here.
      book.checkStep(spec().actionSpace(), actions, true);
      ServerCommand.Builder cmd = ServerCommand.newBuilder()
          .setStep(StepRequest.newBuilder().setActions(ValueCodec.encode(actions))
              .setOmitInfo(omitInfo));
      WorkerMessage reply = call(cmd, "step", WorkerMessage.MessageCase.STEP_RESULT, true);
      VectorStepResult result = decode(() -> ResultCodec.decode(reply.getStepResult(), n,
          "step_result"), "step");
      book.recordStep(result.terminated(), result.truncated());
      return result;
    } finally {
      callLock.unlock();
    }
  }

  /** Whether the worker declared the capability {@value #DETERMINISTIC_COLLECT}. */
  public boolean supportsDeterministicCollect() {
    return supportsWorkerInference() && info.capabilities().contains(DETERMINISTIC_COLLECT);
  }

  /** Whether the worker declared the capability {@value #WORKER_INFERENCE}. */
  public boolean supportsWorkerInference() {
    return info.capabilities().contains(WORKER_INFERENCE);
  }

  /**
   * Worker-side inference: the worker runs {@code request.steps_per_lane} steps of every lane,
   * sampling the actions itself from its policy (the one in the request, or the last one it
   * was sent), and replies once with the trajectory. Episodes continue across calls and across
   * interleaved {@link #step} calls.
   *
   * <p>Checked here before sending: the capability, SAME_STEP autoreset, a Box observation
   * space and a Discrete or Box action space, K >= 1, every lane reset. The policy itself is
   * checked by the worker (sizes against its spaces, theta's length, finite values, the
   * normalizer's statistics): a bad one comes back as a {@link RemoteEnvException} with code
   * INVALID_ARGUMENT and changes nothing in the worker. The request's timeout covers the whole
   * chunk.
   *
   * @throws IllegalStateException when this worker or env cannot collect, or a lane was never
   *     reset
   * @throws IllegalArgumentException for K < 1
   */
  public WorkerTrajectory collect(CollectRequest request) {
    WorkerTrajectory[] out = new WorkerTrajectory[1];
    collectAll(List.of(request), t -> out[0] = t);
    return out[0];
  }

  /**
   * Runs several collects in a row, each checked and answered as in {@link #collect}, keeping
   * the worker busy: as soon as the reply to request j arrives the next request is sent, before
   * request j's trajectory is decoded and handed to {@code consumer}, so the worker runs its
   * next chunk while this side processes the last one (at most two requests in flight). A
   * first request that carries a policy or a seed is sent alone, so a refused policy never lets
   * a following chunk run under the previous one.
   *
   * <p>Fails at the first failing request; requests already sent then still run in the worker
   * (their replies are dropped).
   *
   * @param consumer receives each trajectory in order, on the calling thread
   */
  public void collectAll(List<CollectRequest> requests, Consumer<WorkerTrajectory> consumer) {
    callLock.lock();
    try {
      checkNothingSubmitted("collect");
      checkCollect(requests);
      Space.Box observationSpace = observationBox();
      int actionDim = actionDim();
      ArrayDeque<Pending> sent = new ArrayDeque<>();
      ArrayDeque<Integer> sentSteps = new ArrayDeque<>();
      int[] next = {0};
      boolean[] firstAnswered = {false};
      // two in flight, so the worker finds its next chunk queued when it finishes one; a first
      // request that changes the policy or the generator goes out alone
      boolean firstAlone = !requests.isEmpty()
          && (requests.get(0).hasPolicy() || requests.get(0).hasSeed());
      Runnable topUp = () -> {
        while (next[0] < requests.size() && sent.size() < 2
            && !(next[0] == 1 && firstAlone && !firstAnswered[0])) {
          CollectRequest r = requests.get(next[0]++);
          sent.add(dispatch(ServerCommand.newBuilder().setCollect(r), "collect", false));
          sentSteps.add(r.getStepsPerLane());
        }
      };
      try {
        while (next[0] < requests.size() || !sent.isEmpty()) {
          topUp.run();
          Pending p = sent.poll();
          int steps = sentSteps.poll();
          WorkerMessage reply = check(await(p, timeout), "collect",
              WorkerMessage.MessageCase.TRAJECTORY);
          firstAnswered[0] = true;
          topUp.run();  // before this chunk is decoded and consumed
          consumer.accept(decode(() -> WorkerTrajectory.decode(reply.getTrajectory(),
              observationSpace, numEnvs(), steps, actionDim, "trajectory"), "collect"));
        }
      } finally {
        for (Pending p : sent) {
          inFlight.remove(p.id());  // abandoned after a failure: their replies are dropped
        }
      }
    } finally {
      callLock.unlock();
    }
  }

  /**
   * Collect-ahead, the asynchronous form of {@link #collect}: sends the request (checked as
   * there) and returns at once; {@link #awaitCollect} returns the trajectories in the order
   * they were submitted. The worker runs them back to back, so one submitted while it runs
   * the last keeps it busy. At most {@value #MAX_SUBMITTED} may be outstanding, and while any
   * is, reset, step and the synchronous collects are refused (the lanes are the worker's).
   *
   * @throws IllegalStateException as {@link #collect}, or with {@value #MAX_SUBMITTED}
   *     collects outstanding
   */
  public void submitCollect(CollectRequest request) {
    callLock.lock();
    try {
      checkCollect(List.of(request));
      if (submitted.size() >= MAX_SUBMITTED) {
        throw new IllegalStateException(info.describe() + ": submitCollect: expected at most "
            + MAX_SUBMITTED + " collects outstanding, got " + submitted.size()
            + " already; await one first");
      }
      submitted.add(dispatch(ServerCommand.newBuilder().setCollect(request), "collect", false));
      submittedSteps.add(request.getStepsPerLane());
    } finally {
      callLock.unlock();
    }
  }

  /** How many submitted collects have not been awaited. */
  public int submittedCollects() {
    callLock.lock();
    try {
      return submitted.size();
    } finally {
      callLock.unlock();
    }
  }

  /**
   * Waits for the oldest submitted collect and returns its trajectory. When it fails, every
   * other submitted collect is abandoned too (their replies are dropped), so the env is
   * usable again at once.
   *
   * @throws IllegalStateException when nothing was submitted
   */
  public WorkerTrajectory awaitCollect() {
    callLock.lock();
    try {
      Pending p = submitted.poll();
      if (p == null) {
        throw new IllegalStateException(info.describe() + ": awaitCollect: no collect was "
            + "submitted");
      }
      int steps = submittedSteps.poll();
      try {
        WorkerMessage reply = check(await(p, timeout), "collect",
            WorkerMessage.MessageCase.TRAJECTORY);
        return decode(() -> WorkerTrajectory.decode(reply.getTrajectory(), observationBox(),
            numEnvs(), steps, actionDim(), "trajectory"), "collect");
      } catch (RuntimeException e) {
        abandonSubmitted();
        throw e;
      }
    } finally {
      callLock.unlock();
    }
  }

  /** Drops every submitted collect: their replies, when they come, are ignored. */
  public void abandonSubmitted() {
    callLock.lock();
    try {
      for (Pending p : submitted) {
        inFlight.remove(p.id());
      }
      submitted.clear();
      submittedSteps.clear();
    } finally {
      callLock.unlock();
    }
  }

  private void checkNothingSubmitted(String what) {
    if (!submitted.isEmpty()) {
      throw new IllegalStateException(info.describe() + ": " + what + " while "
          + submitted.size() + " submitted collect(s) are outstanding: expected awaitCollect "
          + "(or abandonSubmitted) first");
    }
  }

  /** The checks every collect request passes before it is sent; the caller holds callLock. */
  private void checkCollect(List<CollectRequest> requests) {
    if (!supportsWorkerInference()) {
      throw new IllegalStateException(info.describe() + ": collect needs the worker "
          + "capability " + WORKER_INFERENCE + ", got capabilities " + info.capabilities());
    }
    if (autoresetMode() != AutoresetMode.SAME_STEP) {
      throw new IllegalStateException(info.describe() + ": collect needs autoreset mode "
          + "SAME_STEP (every step a transition, final observations reported), got "
          + autoresetMode());
    }
    observationBox();
    actionDim();
    for (CollectRequest r : requests) {
      if (r.getStepsPerLane() < 1) {
        throw new IllegalArgumentException("steps_per_lane: expected >= 1, got "
            + r.getStepsPerLane());
      }
      if (r.getDeterministic() && !supportsDeterministicCollect()) {
        // an older worker would ignore the field and sample: refuse rather than mislead
        throw new IllegalArgumentException("deterministic: needs a worker with the capability "
            + DETERMINISTIC_COLLECT + "; worker " + info.id() + " has " + info.capabilities());
      }
    }
    book.checkEveryLaneReset("collect");
    if (closed) {
      throw new IllegalStateException(info.describe() + ": collect after close");
    }
  }

  private Space.Box observationBox() {
    if (spec().observationSpace() instanceof Space.Box box) {
      return box;
    }
    throw new IllegalStateException(info.describe() + ": collect needs a Box observation "
        + "space, got " + spec().observationSpace());
  }

  /** Doubles per recorded action: 1 (the index) for Discrete, the element count for Box. */
  private int actionDim() {
    Space space = spec().actionSpace();
    if (space instanceof Space.Discrete) {
      return 1;
    }
    if (space instanceof Space.Box box) {
      return box.size();
    }
    throw new IllegalStateException(info.describe() + ": collect needs a Discrete or Box "
        + "action space, got " + space);
  }

  @Override
  public void close() {
    close("closed by the server");
  }

  /**
   * Asks the worker to close its env, telling it why (waiting a few seconds for its
   * confirmation), then ends the stream and removes the worker from its pool. Idempotent;
   * never throws.
   */
  public void close(String reason) {
    callLock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      for (Pending p : submitted) {
        inFlight.remove(p.id());  // the worker still runs them before the close; unread
      }
      submitted.clear();
      submittedSteps.clear();
      if (failure == null) {
        try {
          Duration wait = timeout.compareTo(CLOSE_WAIT) < 0 ? timeout : CLOSE_WAIT;
          send(ServerCommand.newBuilder().setClose(CloseRequest.newBuilder()
              .setReason(reason)), "close", wait, false);
        } catch (RuntimeException e) {
          log.log(Level.FINE, info.describe() + ": close not confirmed", e);
        }
      }
      sink.complete();
      if (region != null) {
        region.close();  // its file is long unlinked; the mapping goes with the buffer
        region = null;
      }
    } finally {
      callLock.unlock();
    }
    onClosed.accept(this, null);
  }

  /**
   * Server shutdown with the worker still in use: fails the pending requests and ends the
   * stream with UNAVAILABLE, both saying {@code why}.
   */
  public void goAway(String why) {
    disconnected(new IllegalStateException(why));
    sink.goAway(why);
  }

  // ---- transport side --------------------------------------------------------------------

  /** Transport side: a message from the worker (called on a gRPC thread). */
  public void deliver(WorkerMessage message) {
    Pending p = inFlight.get(message.getId());
    if (p != null) {
      p.reply().complete(message);
    } else {
      // A late reply to a request that timed out, or a worker speaking out of turn.
      log.fine(() -> info.describe() + ": dropped a reply with id " + message.getId()
          + " (pending " + inFlight.keySet() + ")");
    }
  }

  /** Transport side: the worker's stream ended; fails the pending requests. Idempotent. */
  public void disconnected(Throwable cause) {
    if (failure != null) {
      return;
    }
    failure = cause == null ? new IllegalStateException("stream ended") : cause;
    for (Pending p : inFlight.values()) {
      p.reply().completeExceptionally(failure);
    }
    if (!closed) {
      onClosed.accept(this, failure);
    }
  }

  // ---------------------------------------------------------------------------------------

  /** @param regionEligible whether the command may go through the shared-memory region */
  private WorkerMessage call(ServerCommand.Builder cmd, String what,
      WorkerMessage.MessageCase expected, boolean regionEligible) {
    if (closed) {
      throw new IllegalStateException(info.describe() + ": " + what + " after close");
    }
    if (regionEligible && !regionOffered) {
      offerRegion();
    }
    return check(send(cmd, what, timeout, regionEligible), what, expected);
  }

  /**
   * Whether resets and steps may go through shared memory (capability
   * {@value SharedMemoryRegion#CAPABILITY}) when the worker is co-located: true by default
   * where {@link SharedMemoryRegion#supported}. Read at the first reset or step, when the
   * region is offered; false after that retires a region in use for good, and every command
   * then takes the stream.
   */
  public void setSharedMemorySteps(boolean enabled) {
    callLock.lock();
    try {
      sharedMemorySteps = enabled;
      if (!enabled && region != null) {
        retireRegion("turned off");
      }
    } finally {
      callLock.unlock();
    }
  }

  /** "shm" while resets and steps go through shared memory, else "grpc". */
  public String transport() {
    return region != null ? "shm" : "grpc";
  }

  /** How the shared-memory offer went: "accepted", or why there is no region. */
  public String sharedMemoryOutcome() {
    return regionOutcome;
  }

  /** Commands answered through the shared-memory region so far. */
  public long sharedMemoryCommands() {
    return regionCommands;
  }

  /** Of those, the steps the worker answered packed (docs/protocol.md, "Packed steps"). */
  public long packedStepReplies() {
    return packedStepReplies;
  }

  /**
   * Offers the worker a region (once, at the first reset or step, on the caller's thread); on
   * any failure the stream carries everything, as for a worker without the capability. The
   * region's file is unlinked whatever the answer. The caller holds callLock.
   */
  private void offerRegion() {
    regionOffered = true;
    regionOutcome = !sharedMemorySteps ? "turned off"
        : !info.capabilities().contains(SharedMemoryRegion.CAPABILITY)
        ? "the worker lacks the capability " + SharedMemoryRegion.CAPABILITY : tryRegion();
    log.info(() -> info.describe() + ": resets and steps " + (region != null
        ? "through shared memory (" + regionOutcome + ")"
        : "on the stream; shared memory " + regionOutcome));
  }

  /** Offers a region; returns the outcome, with {@link #region} set when accepted. */
  private String tryRegion() {
    SharedMemoryRegion offered;
    try {
      offered = SharedMemoryRegion.create(info.id(), requestBytes(), replyBytes(),
          PackedStepReply.forSpace(spec().observationSpace(), numEnvs()));
    } catch (java.io.IOException | RuntimeException e) {
      return "cannot create a region: " + e;
    }
    try {
      WorkerMessage reply = send(ServerCommand.newBuilder().setShmOffer(
          io.dsogym.wire.v1.SharedMemoryOffer.newBuilder()
              .setPath(offered.path().toString()).setSizeBytes(offered.size())
              .setDoorbellPath(SharedMemoryRegion.doorbellPath(offered.path()).toString())
              .setRequestCapacity(offered.requestCapacity())
              .setPackedStepReplies(offered.readsPackedSteps())), "shm_offer", timeout, false);
      if (reply.getMessageCase() == WorkerMessage.MessageCase.ERROR) {
        return "refused: " + reply.getError().getMessage();
      }
      if (reply.getMessageCase() != WorkerMessage.MessageCase.SHM_ACCEPTED
          || !offered.proves(reply.getShmAccepted().getToken().toByteArray())) {
        return "the worker did not read the token back (not the same /dev/shm)";
      }
      if (!offered.connectDoorbell()) {
        return "the worker did not connect to the doorbell";
      }
      region = offered;
      return "accepted";
    } finally {
      offered.unlink();
      if (region != offered) {
        offered.close();
      }
    }
  }

  /** Stops using the region (hanging up its doorbell ends the worker's side); callLock held. */
  private void retireRegion(String why) {
    if (region != null) {
      region.close();
    }
    region = null;
    regionOutcome = why;
  }

  /** The request area: N actions and the message's framing. */
  private int requestBytes() {
    return (int) Math.min(SharedMemoryRegion.MAX_AREA_BYTES,
        (long) numEnvs() * SharedMemoryRegion.elementBytes(spec().actionSpace()) + 4096);
  }

  /** The reply area: N observations, N final ones, the rewards, flags and ended lanes, framing. */
  private int replyBytes() {
    long obs = SharedMemoryRegion.elementBytes(spec().observationSpace());
    return (int) Math.min(SharedMemoryRegion.MAX_AREA_BYTES,
        numEnvs() * (2 * obs + 32) + 65536);
  }

  /** Throws the worker's error, or for a reply of another kind than {@code expected}. */
  private WorkerMessage check(WorkerMessage reply, String what,
      WorkerMessage.MessageCase expected) {
    if (reply.getMessageCase() == WorkerMessage.MessageCase.ERROR) {
      throw StatusMapping.toException(reply.getError(),
          info.describe() + " " + what + " #" + reply.getId());
    }
    if (reply.getMessageCase() != expected) {
      throw new RemoteEnvException(Status.Code.INTERNAL, "", info.describe() + ": " + what
          + " #" + reply.getId() + ": expected a " + expected + " reply, got "
          + reply.getMessageCase(), "");
    }
    return reply;
  }

  /** Sends one command and waits for its reply; the caller holds callLock. */
  private WorkerMessage send(ServerCommand.Builder cmd, String what, Duration wait,
      boolean regionEligible) {
    return await(dispatch(cmd, what, regionEligible), wait);
  }

  /**
   * Sends one command without waiting: through the region when eligible and it fits, else on
   * the stream. Either way it is registered for a reply from the stream, where a worker's reply
   * too big for the region comes, and which the stream's end fails. The caller holds callLock,
   * then awaits it.
   */
  private Pending dispatch(ServerCommand.Builder cmd, String what, boolean regionEligible) {
    long id = nextId++;
    ServerCommand command = cmd.setId(id).build();
    SharedMemoryRegion via = regionEligible ? region : null;
    Pending p = new Pending(id, what, new CompletableFuture<>(), via);
    inFlight.put(id, p);
    // checked after registering: a disconnect either sees p or is seen here
    Throwable gone = failure;
    if (gone != null) {
      inFlight.remove(id);
      throw unavailable(what, id, gone);
    }
    try {
      if (via == null || !via.offer(command)) {
        p = new Pending(id, what, p.reply(), null);
        sink.send(command);
      }
    } catch (RuntimeException e) {
      inFlight.remove(id);
      throw unavailable(what, id, e);
    }
    return p;
  }

  /** Waits for the reply to a dispatched command. */
  private WorkerMessage await(Pending p, Duration wait) {
    String what = p.what();
    long id = p.id();
    try {
      if (p.region() != null) {
        WorkerMessage fromRegion;
        try {
          fromRegion = p.region().await(id, p.reply(), System.nanoTime() + wait.toNanos());
        } catch (InterruptedException e) {
          // the worker may still write this reply: the stream from now on
          retireRegion("retired after an interrupt");
          throw e;
        } catch (IllegalArgumentException malformed) {
          // the worker broke the region's protocol: the stream from now on
          retireRegion("retired: " + malformed.getMessage());
          throw new RemoteEnvException(Status.Code.INTERNAL, "", info.describe() + ": "
              + "malformed " + what + " reply: " + malformed.getMessage(), "", malformed);
        }
        if (fromRegion != null) {
          regionCommands++;
          if (p.region().lastReplyPacked()) {
            packedStepReplies++;
          }
          return fromRegion;
        }
        if (!p.reply().isDone()) {
          // the deadline passed: the worker may still write this reply, so the region is not
          // reused; later commands take the stream, whose late replies are dropped by id
          retireRegion("retired after a timeout");
        }
        return p.reply().get(0, TimeUnit.NANOSECONDS);  // done, or the deadline passed
      }
      return p.reply().get(wait.toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw new EnvUnavailableException(EnvUnavailableException.Reason.DEADLINE_EXCEEDED, info.describe()
          + ": no reply to " + what + " #" + id + " within " + wait.toMillis() + " ms", e);
    } catch (ExecutionException e) {
      throw unavailable(what, id, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EnvUnavailableException(EnvUnavailableException.Reason.CANCELLED, info.describe()
          + ": interrupted while waiting for the reply to " + what + " #" + id, e);
    } finally {
      inFlight.remove(id);
    }
  }

  private EnvUnavailableException unavailable(String what, long id, Throwable cause) {
    String why = cause == null ? "stream ended"
        : cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage();
    return new EnvUnavailableException(EnvUnavailableException.Reason.UNAVAILABLE, info.describe()
        + " disconnected; " + what + " #" + id + " failed (" + why + ")", cause);
  }

  private <T> T decode(java.util.function.Supplier<T> decoder, String what) {
    try {
      return decoder.get();
    } catch (IllegalArgumentException e) {
      // The worker broke the protocol; not the caller's fault.
      throw new RemoteEnvException(Status.Code.INTERNAL, "", info.describe()
          + ": malformed " + what + " reply: " + e.getMessage(), "", e);
    }
  }

  @Override
  public String toString() {
    return "RemoteVectorEnv(" + info.describe() + ", " + autoresetMode() + ")";
  }
}
