package io.dsogym.server;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.Env;
import io.dsogym.env.EnvSpec;
import io.dsogym.envs.EnvRegistry;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
import io.dsogym.remote.WorkerPool;
import io.dsogym.wire.EnvSpecCodec;
import io.dsogym.wire.Json;
import io.dsogym.wire.ResultCodec;
import io.dsogym.wire.StatusMapping;
import io.dsogym.wire.ValueCodec;
import io.dsogym.wire.v1.ClientHello;
import io.dsogym.wire.v1.ClientRequest;
import io.dsogym.wire.v1.ClientResponse;
import io.dsogym.wire.v1.CloseResult;
import io.dsogym.wire.v1.EnvServiceGrpc;
import io.dsogym.wire.v1.ListEnvsRequest;
import io.dsogym.wire.v1.ListEnvsResponse;
import io.dsogym.wire.v1.MadeEnv;
import io.dsogym.wire.v1.MakeRequest;
import io.dsogym.wire.v1.ProtocolVersion;
import io.dsogym.wire.v1.ServerHello;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * EnvService: clients use envs over one stream per session (hello, make, then reset/step until
 * close). An env is Java-native (the registry's), or served by a connected worker (the hub,
 * {@link WorkerPool#lease}): the session then has one idle worker serving that id to itself
 * until it ends, and gives it back fresh; a Java-native id takes precedence over a worker's. Each request is translated, delegated to a {@link SyncVectorEnv},
 * and its result translated back; any failure becomes an in-band Error reply carrying the
 * request's id (codes from {@link StatusMapping}) and changes nothing, and the stream goes on;
 * only a wrong auth token ends the stream (UNAUTHENTICATED). {@code ListEnvs} needs the token
 * too when the server has one.
 *
 * <p>The {@link ServerLimits} bound each session's lanes and kwargs, and the sessions and
 * lanes of the whole server ({@link ServerResources}); a session that leaves its replies
 * unread stops being read (see {@code Stream}). A draining server ends the sessions still
 * open with a notice ({@link #goAway}).
 *
 * <p>Session resume (docs/protocol.md): a session outlives a stream that breaks for
 * --resume-grace ({@link ServerOptions#resumeGrace}), keeping its env, lanes and last reply,
 * and a new stream whose hello carries the session's resume id reattaches it. Its first
 * request repeats the last answered id (the stored reply is sent again: nothing runs twice)
 * or takes the next one. A kept session still holds its place and its lanes.
 */
public final class EnvSessionService extends EnvServiceGrpc.EnvServiceImplBase {
  private static final Logger log = Logger.getLogger(EnvSessionService.class.getName());
  private static final SecureRandom RANDOM = new SecureRandom();
  /**
   * Trailers of every stream end the server sends itself (drain, refusal, takeover): the
   * session is over, so a client must not try to resume it, whatever the status code.
   */
  static final Metadata.Key<String> SESSION_TRAILER =
      Metadata.Key.of("dsogym-session", Metadata.ASCII_STRING_MARSHALLER);
  /** What sessions offer, in the ServerHello to clients (the workers' list is theirs alone). */
  static final List<String> CAPABILITIES = List.of("reset_mask", "same_step_final_observations",
      "info_tensors", "worker_hosted_envs", "unseeded_lanes");

  private final ServerOptions options;
  private final ServerLimits limits;
  private final ServerResources resources;
  /** The connected workers, whose envs sessions may use too. */
  private final WorkerPool pool;
  /** The open streams, for a server shutdown to end with a notice ({@link #goAway}). */
  private final Set<Stream> open = ConcurrentHashMap.newKeySet();
  /** The sessions a new stream may resume (attached to a stream, or kept), by resume id. */
  private final Map<String, Session> resumable = new ConcurrentHashMap<>();
  /** Closes the kept sessions whose grace is over. */
  private final ScheduledThreadPoolExecutor expiry;
  /** Whether a broken session is kept for resuming; false when off and once draining. */
  private volatile boolean keeping;

  /** Sessions of Java-native envs only (no workers). */
  public EnvSessionService(ServerOptions options) {
    this(options, new ServerResources(options.limits()), new WorkerPool());
  }

  EnvSessionService(ServerOptions options, ServerResources resources, WorkerPool pool) {
    this.options = options;
    this.pool = pool;
    this.limits = options.limits();
    this.resources = resources;
    this.keeping = !options.resumeGrace().isZero();
    this.expiry = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "dsogym-session-expiry");
      t.setDaemon(true);
      return t;
    });
    expiry.setKeepAliveTime(10, TimeUnit.SECONDS);
    expiry.allowCoreThreadTimeOut(true);
    expiry.setRemoveOnCancelPolicy(true);
  }

  /** The refusal of a wrong or missing token; never echoes the token. */
  private static io.grpc.StatusRuntimeException unauthenticated(String request, String token) {
    return Status.UNAUTHENTICATED.withDescription(request + ".auth_token: expected the server's "
        + "token, got " + (token.isEmpty() ? "none" : "a different one")).asRuntimeException();
  }

  @Override
  public void listEnvs(ListEnvsRequest request, StreamObserver<ListEnvsResponse> responses) {
    if (!options.authorizes(request.getAuthToken())) {
      responses.onError(unauthenticated("list_envs", request.getAuthToken()));
      return;
    }
    ListEnvsResponse.Builder b = ListEnvsResponse.newBuilder();
    try {
      EnvRegistry registry = options.registry();
      for (String id : registry.ids()) {
        b.addEnvs(EnvSpecCodec.encode(registry.spec(id)));
      }
      for (EnvSpec spec : pool.servedSpecs()) {
        if (!registry.ids().contains(spec.id())) {
          b.addEnvs(EnvSpecCodec.encode(spec));
        }
      }
    } catch (RuntimeException e) {
      responses.onError(StatusMapping.toStatus(e).asRuntimeException());
      return;
    }
    responses.onNext(b.build());
    responses.onCompleted();
  }

  @Override
  public StreamObserver<ClientRequest> session(StreamObserver<ClientResponse> responses) {
    ServerResources.Grant place;
    try {
      // beyond --max-sessions, a place for each resumable session: its client may come back
      place = resources.openSession(keeping ? resumable.size() : 0);
    } catch (RuntimeException full) {
      log.warning(() -> "refused a session: " + full.getMessage());
      responses.onError(full);
      return new Refused();
    }
    Stream s = new Stream((ServerCallStreamObserver<ClientResponse>) responses, place);
    open.add(s);
    return s;
  }

  /**
   * Server shutdown, grace over: ends every open session with UNAVAILABLE and this
   * description. A request being handled finishes first; its reply is not sent.
   */
  public void goAway(String description) {
    stopResuming();
    for (Stream s : open) {
      s.end(Status.UNAVAILABLE.withDescription(description));
    }
  }

  /**
   * Server drain: no new stream can resume a session any more, so the kept sessions close now
   * (their lanes freed), and a session whose stream breaks from now on closes at once.
   */
  public void stopResuming() {
    keeping = false;
    for (Session s : resumable.values()) {
      s.closeIfKept("the server is shutting down");
    }
  }

  /** The sessions kept for resuming, with no stream attached (for tests and logs). */
  int keptSessions() {
    return (int) resumable.values().stream().filter(Session::isKept).count();
  }

  /** The requests of a stream refused at its start: ignored. */
  private static final class Refused implements StreamObserver<ClientRequest> {
    @Override
    public void onNext(ClientRequest request) {}

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  /** The reply to {@code request}: what {@code handler} builds, or the Error it threw. */
  private static ClientResponse reply(ClientRequest request,
      Consumer<ClientResponse.Builder> handler) {
    ClientResponse.Builder reply = ClientResponse.newBuilder().setId(request.getId());
    try {
      handler.accept(reply);
    } catch (RuntimeException e) {
      if (StatusMapping.codeOf(e) == Status.Code.INTERNAL) {
        log.log(Level.WARNING, "session request " + request.getId() + " failed", e);
      }
      reply.clearResponse().setError(StatusMapping.toError(e));
    } catch (OutOfMemoryError e) {
      // What the request allocated is garbage again; the caller hears why, not UNKNOWN.
      log.warning(() -> "session request " + request.getId() + " ran out of memory: " + e);
      reply.clearResponse().setError(StatusMapping.error(Status.Code.RESOURCE_EXHAUSTED,
          request.getRequestCase().name().toLowerCase() + ": the server ran out of memory ("
          + e.getMessage() + "); ask for fewer lanes or smaller kwargs"));
    }
    return reply.build();
  }

  private static String newResumeId() {
    byte[] bits = new byte[16];
    RANDOM.nextBytes(bits);
    return HexFormat.of().formatHex(bits);
  }

  /**
   * One client's session: its env, its lanes, and what resuming needs (the id, the last
   * answered request and its reply). A stream is attached to it while one is; when that stream
   * breaks, the session is kept with none for --resume-grace, then closed. It also closes when
   * its client ends the stream (or sends garbage), and when the server drains. Guarded by its
   * own lock, which a stream takes inside the stream's lock, never the other way round.
   */
  private final class Session {
    final String resumeId;  // "" when sessions are not kept
    private final ServerResources.Grant place;
    private Stream stream;  // the attached stream; null while kept
    private ScheduledFuture<?> expiryTask;
    private boolean closed;
    private VectorEnv env;
    private ServerResources.Grant envLanes;
    private long lastId;  // the id of the last request answered
    private ClientResponse lastReply;  // its reply, to send again to a retry (when resumable)

    Session(Stream stream, ServerResources.Grant place, long helloId) {
      this.stream = stream;
      this.place = place;
      this.lastId = helloId;
      this.resumeId = keeping ? newResumeId() : "";
      if (!resumeId.isEmpty()) {
        resumable.put(resumeId, this);
      }
    }

    /**
     * Answers a request of the attached stream; the first request after a resume must be a
     * retry of the last answered one (answered with its stored reply) or the next one.
     */
    synchronized ClientResponse answer(Stream from, ClientRequest request) {
      if (from != stream) {
        return reply(request, b -> {
          throw Status.ABORTED.withDescription("session: resumed on another stream; this one "
              + "runs no more requests").asRuntimeException();
        });
      }
      if (from.firstAfterResume) {
        if (request.getId() == lastId && lastReply != null) {
          from.firstAfterResume = false;
          return lastReply;
        }
        if (request.getId() != lastId + 1) {
          return reply(request, b -> {
            throw new IllegalStateException("request id: expected " + lastId + " (a retry of "
                + "the last request answered) or " + (lastId + 1) + " (the next one) as the "
                + "first request after a resume, got " + request.getId());
          });
        }
        from.firstAfterResume = false;
      }
      ClientResponse r = reply(request, b -> handle(request, b));
      lastId = request.getId();
      if (!resumeId.isEmpty()) {
        lastReply = r;
      }
      return r;
    }

    /** Attaches {@code to}; returns the stream it displaces (whose client lost it), if any. */
    synchronized Stream attach(Stream to) {
      if (closed) {
        throw unknownResumeId();
      }
      if (expiryTask != null) {
        expiryTask.cancel(false);
        expiryTask = null;
      }
      Stream displaced = stream;
      stream = to;
      to.firstAfterResume = true;
      log.info(() -> "session " + resumeId.substring(0, 8) + "… resumed"
          + (displaced != null ? " (its previous stream had not ended yet)" : ""));
      return displaced;
    }

    /**
     * The stream {@code from} ended: a broken one leaves the session kept for resuming (when
     * the server keeps sessions); one that ended otherwise closes it. Nothing if {@code from}
     * was no longer attached.
     */
    synchronized void detach(Stream from, boolean broken) {
      if (from != stream || closed) {
        return;
      }
      stream = null;
      if (broken && !resumeId.isEmpty() && keeping) {
        long graceMs = options.resumeGrace().toMillis();
        expiryTask = expiry.schedule(this::expire, graceMs, TimeUnit.MILLISECONDS);
        log.info(() -> "session " + resumeId.substring(0, 8) + "… lost its stream; kept for "
            + graceMs + " ms (--resume-grace) with "
            + (env == null ? "no env" : env.spec().id() + " × " + env.numEnvs()));
      } else {
        close();
      }
    }

    private synchronized void expire() {
      if (stream == null && !closed) {
        log.info(() -> "session " + resumeId.substring(0, 8) + "… closed: not resumed within "
            + "--resume-grace " + options.resumeGrace().toMillis() + " ms");
        close();
      }
    }

    synchronized boolean isKept() {
      return stream == null && !closed;
    }

    synchronized void closeIfKept(String why) {
      if (stream == null && !closed) {
        log.info(() -> "session " + resumeId.substring(0, 8) + "… closed while kept: " + why);
        close();
      }
    }

    private void close() {
      closed = true;
      lastReply = null;
      if (!resumeId.isEmpty()) {
        resumable.remove(resumeId);
      }
      if (expiryTask != null) {
        expiryTask.cancel(false);
      }
      try {
        closeEnv();
      } finally {
        place.release();
      }
    }

    private void handle(ClientRequest request, ClientResponse.Builder reply) {
      switch (request.getRequestCase()) {
        case MAKE:
          reply.setMade(make(request.getMake()));
          break;
        case RESET: {
          VectorEnv e = requireEnv("reset");
          RequestLimits.checkJsonBytes(request.getReset().getOptionsJsonBytes().size(),
              "reset.options_json", limits);
          ResultCodec.Reset r = ResultCodec.decodeReset(request.getReset(), e.numEnvs());
          reply.setResetResult(ResultCodec.encode(e.reset(r.seeds(), r.unseeded(), r.options(),
              r.mask())));
          break;
        }
        case STEP: {
          VectorEnv e = requireEnv("step");
          if (!request.getStep().hasActions()) {
            throw new IllegalArgumentException("step.actions: expected a batched value, got none");
          }
          Value actions = ValueCodec.decode(request.getStep().getActions(), "step.actions");
          reply.setStepResult(ResultCodec.encode(request.getStep().getOmitInfo()
              ? e.stepWithoutInfo(actions) : e.step(actions)));
          break;
        }
        case CLOSE:
          closeEnv();
          reply.setClosed(CloseResult.getDefaultInstance());
          break;
        default:
          throw new IllegalArgumentException("request: unknown kind "
              + request.getRequestCase());
      }
    }

    private MadeEnv make(MakeRequest make) {
      if (env != null) {
        throw new IllegalStateException("make: this session already has " + env.spec().id()
            + "; close it first");
      }
      int n = make.getNumEnvs() == 0 ? 1 : make.getNumEnvs();
      if (n < 1) {
        throw new IllegalArgumentException("make.num_envs: expected a value >= 1 (0 means 1), "
            + "got " + make.getNumEnvs());
      }
      if (n > limits.maxSessionLanes()) {
        throw new IllegalArgumentException("make.num_envs: expected at most "
            + limits.maxSessionLanes() + " lanes (limit --max-session-lanes), got " + n);
      }
      AutoresetMode mode = EnvSpecCodec.decode(make.getAutoresetMode(), AutoresetMode.NEXT_STEP,
          "make.autoreset_mode");
      RequestLimits.checkJsonBytes(make.getKwargsJsonBytes().size(), "make.kwargs_json", limits);
      Map<String, Object> kwargs = Json.parseObject(make.getKwargsJson(), "make.kwargs_json");
      RequestLimits.checkLists(kwargs, "make.kwargs_json", limits);
      if (!options.registry().ids().contains(make.getEnvId())) {
        return makeWorkerHosted(make.getEnvId(), kwargs, n, mode);
      }
      ServerResources.Grant grant = resources.lanes(n, "make.num_envs");
      List<Env> lanes = null;
      try {
        lanes = options.registry().makeLanes(make.getEnvId(), kwargs, n);
        env = new SyncVectorEnv(lanes, mode);
      } catch (RuntimeException | Error e) {
        if (lanes != null) {
          lanes.forEach(Env::close);
        }
        grant.release();
        throw e;
      }
      envLanes = grant;
      return MadeEnv.newBuilder().setSpec(EnvSpecCodec.encode(env.spec())).setNumEnvs(n)
          .setAutoresetMode(EnvSpecCodec.encode(mode)).build();
    }

    /**
     * A worker's lanes, lent for the session's life. Its lanes were counted against the limits
     * when the worker connected, so they take no grant here.
     */
    private MadeEnv makeWorkerHosted(String envId, Map<String, Object> kwargs, int n,
        AutoresetMode mode) {
      VectorEnv lease = pool.lease(envId, n, mode);
      if (lease == null) {
        List<String> served = pool.servedSpecs().stream().map(EnvSpec::id).toList();
        throw new EnvRegistry.UnknownEnvException("make.env_id: expected a Java-native env "
            + options.registry().ids() + " or one a connected worker serves " + served
            + ", got '" + envId + "'");
      }
      Map<String, Object> made = Json.parseObject(lease.spec().kwargsJson(), "spec.kwargs_json");
      if (!kwargs.isEmpty() && !kwargs.equals(made)) {
        lease.close();
        throw new IllegalArgumentException("make.kwargs_json: expected {} or the kwargs "
            + lease.describe() + " made its env with, " + lease.spec().kwargsJson() + ", got "
            + Json.toJson(kwargs));
      }
      env = lease;
      envLanes = resources.lanes(0, "make.num_envs");
      return MadeEnv.newBuilder().setSpec(EnvSpecCodec.encode(env.spec())).setNumEnvs(n)
          .setAutoresetMode(EnvSpecCodec.encode(mode)).build();
    }

    private VectorEnv requireEnv(String what) {
      if (env == null) {
        throw new IllegalStateException(what + ": expected a made env (send make first), got "
            + "none");
      }
      return env;
    }

    private void closeEnv() {
      if (env != null) {
        VectorEnv e = env;
        env = null;
        try {
          e.close();
        } finally {
          envLanes.release();
          envLanes = null;
        }
      }
    }
  }

  private StatusRuntimeException unknownResumeId() {
    return Status.NOT_FOUND.withDescription("hello.resume_id: expected the id of a session this "
        + "server keeps for resuming (for --resume-grace " + options.resumeGrace().toMillis()
        + " ms after its stream broke), got an unknown one: the session closed, its grace is "
        + "over, or the server restarted").asRuntimeException();
  }

  /**
   * One stream of EnvService.Session. gRPC runs its callbacks one at a time on the handler
   * executor (never on a network thread); they hold the stream's lock only because a draining
   * server, or a stream resuming its session, may end it from another thread ({@link #end}).
   *
   * <p>Flow control: the stream asks gRPC for one request at a time, and only while its
   * client reads the replies. A reply goes to the transport while the stream is ready
   * ({@code isReady}); otherwise it waits in a queue. Once --max-queued-replies replies (or
   * --max-queued-reply-bytes bytes) wait, the stream reads no more requests until
   * {@code onReady} says the client caught up; HTTP/2 flow control then stops the client from
   * sending more. A client that never reads thus holds a bounded amount of server memory.
   */
  private final class Stream implements StreamObserver<ClientRequest> {
    private final ServerCallStreamObserver<ClientResponse> responses;
    /** The session place taken at the stream's start; a new session's place from its hello. */
    private final ServerResources.Grant place;
    private final ArrayDeque<ClientResponse> queued = new ArrayDeque<>();
    private long queuedBytes;
    private boolean requested;  // a request(1) is outstanding
    private boolean halfClosed;  // the client sent its last request
    private boolean ended;  // the stream is over (completed or cancelled)
    private Session session;  // from the hello on
    boolean firstAfterResume;  // guarded by the session's lock

    Stream(ServerCallStreamObserver<ClientResponse> responses, ServerResources.Grant place) {
      this.responses = responses;
      this.place = place;
      responses.disableAutoRequest();
      responses.setOnReadyHandler(this::onReady);
      requestNext();
    }

    @Override
    public synchronized void onNext(ClientRequest request) {
      requested = false;
      if (ended) {
        return;
      }
      if (session == null && place.overLimit() && request.hasHello()
          && request.getHello().getResumeId().isEmpty()) {
        // the places beyond --max-sessions are for resuming kept sessions only
        end(Status.RESOURCE_EXHAUSTED.withDescription(
            resources.maxSessionsMessage(resources.sessions())));
        return;
      }
      ClientResponse reply = answer(request);
      if (reply.getError().getCode() == Status.Code.UNAUTHENTICATED.value()) {
        // one guess per stream: a wrong token ends it, so guessing costs a new stream each time
        end(Status.UNAUTHENTICATED.withDescription(reply.getError().getMessage()));
        return;
      }
      queued.addLast(reply);
      queuedBytes += reply.getSerializedSize();
      resources.noteQueuedReplies(queued.size());
      drain();
      requestNext();
    }

    private synchronized void onReady() {
      drain();
      requestNext();
    }

    /** Hands queued replies to the transport while it takes them. */
    private void drain() {
      while (!queued.isEmpty() && !ended && responses.isReady()) {
        ClientResponse r = queued.pollFirst();
        queuedBytes -= r.getSerializedSize();
        responses.onNext(r);
      }
      if (halfClosed && queued.isEmpty() && !ended) {
        ended = true;
        responses.onCompleted();
      }
    }

    /** Asks for the next request unless one is pending or the client is behind on replies. */
    private void requestNext() {
      if (!requested && !halfClosed && !ended && queued.size() < limits.maxQueuedReplies()
          && queuedBytes < limits.maxQueuedReplyBytes()) {
        requested = true;
        responses.request(1);
      }
    }

    private ClientResponse answer(ClientRequest request) {
      switch (request.getRequestCase()) {
        case HELLO:
          return reply(request, b -> b.setHello(hello(request)));
        case REQUEST_NOT_SET:
          return reply(request, b -> {
            throw new IllegalArgumentException("request: expected one of hello, make, reset, "
                + "step, close, got none");
          });
        default:
          break;
      }
      if (session == null) {
        return reply(request, b -> {
          throw new IllegalStateException("request " + request.getRequestCase().name()
              .toLowerCase() + ": expected a hello first");
        });
      }
      return session.answer(this, request);
    }

    private ServerHello hello(ClientRequest request) {
      ClientHello hello = request.getHello();
      if (hello.getProtocolVersion() != ProtocolVersion.PROTOCOL_VERSION_1) {
        throw new IllegalStateException("hello.protocol_version: expected PROTOCOL_VERSION_1 (1), "
            + "got " + hello.getProtocolVersionValue());
      }
      if (!options.authorizes(hello.getAuthToken())) {
        throw unauthenticated("hello", hello.getAuthToken());
      }
      if (!hello.getResumeId().isEmpty()) {
        resume(hello.getResumeId());
      } else if (session == null) {
        session = new Session(this, place, request.getId());
      }
      return ServerHello.newBuilder().setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1)
          .addAllCapabilities(CAPABILITIES)
          .setMaxMessageBytes(ServerOptions.MAX_MESSAGE_BYTES)
          .setResumeId(session.resumeId)
          .setResumeGraceMs(session.resumeId.isEmpty() ? 0 : options.resumeGrace().toMillis())
          .build();
    }

    /** Reattaches the session with this resume id, ending the stream it may still have. */
    private void resume(String resumeId) {
      if (session != null) {
        throw new IllegalStateException("hello.resume_id: expected only in a stream's first "
            + "hello, got one after this stream already has a session");
      }
      Session s = resumable.get(resumeId);
      if (s == null) {
        throw unknownResumeId();
      }
      Stream displaced = s.attach(this);
      place.release();  // the session keeps the place it has
      session = s;
      if (displaced != null) {
        displaced.end(Status.ABORTED.withDescription("session: resumed on another stream"));
      }
    }

    /** Ends the stream with an error status (from any thread); idempotent. */
    synchronized void end(Status status) {
      if (ended) {
        return;
      }
      ended = true;
      queued.clear();
      queuedBytes = 0;
      release(false);
      Metadata trailers = new Metadata();
      trailers.put(SESSION_TRAILER, "closed");
      try {
        responses.onError(status.asRuntimeException(trailers));
      } catch (IllegalStateException alreadyClosed) {
        // the transport cancelled the call first
      }
    }

    /** The stream broke (or garbage ended it): its session is kept for resuming, or closed. */
    @Override
    public synchronized void onError(Throwable t) {
      ended = true;
      queued.clear();
      queuedBytes = 0;
      release(!GarbageGuard.refusingNow());
    }

    @Override
    public synchronized void onCompleted() {
      halfClosed = true;
      release(false);
      drain();  // completes the stream once the last replies are out
    }

    private void release(boolean broken) {
      open.remove(this);
      if (session != null) {
        session.detach(this, broken);
      } else {
        place.release();
      }
    }
  }
}
