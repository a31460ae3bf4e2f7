package io.dsogym.server;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.Env;
import io.dsogym.envs.EnvRegistry;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
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
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * EnvService: clients use Java-native envs over one stream per session (hello, make, then
 * reset/step until close). Each request is translated, delegated to a {@link SyncVectorEnv},
 * and its result translated back; any failure becomes an in-band Error reply carrying the
 * request's id (codes from {@link StatusMapping}) and changes nothing, and the stream goes on;
 * only a wrong auth token ends the stream (UNAUTHENTICATED). {@code ListEnvs} needs the token
 * too when the server has one.
 *
 * <p>The {@link ServerLimits} bound each session's lanes and kwargs, and the sessions and
 * lanes of the whole server ({@link ServerResources}); a session that leaves its replies
 * unread stops being read (see {@code Session}). A draining server ends the sessions still
 * open with a notice ({@link #goAway}).
 */
public final class EnvSessionService extends EnvServiceGrpc.EnvServiceImplBase {
  private static final Logger log = Logger.getLogger(EnvSessionService.class.getName());

  private final ServerOptions options;
  private final ServerLimits limits;
  private final ServerResources resources;
  /** The open sessions, for a server shutdown to end with a notice ({@link #goAway}). */
  private final Set<Session> open = ConcurrentHashMap.newKeySet();

  public EnvSessionService(ServerOptions options) {
    this(options, new ServerResources(options.limits()));
  }

  EnvSessionService(ServerOptions options, ServerResources resources) {
    this.options = options;
    this.limits = options.limits();
    this.resources = resources;
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
    } catch (RuntimeException e) {
      responses.onError(StatusMapping.toStatus(e).asRuntimeException());
      return;
    }
    responses.onNext(b.build());
    responses.onCompleted();
  }

  @Override
  public StreamObserver<ClientRequest> session(StreamObserver<ClientResponse> responses) {
    ServerResources.Grant grant;
    try {
      grant = resources.openSession();
    } catch (RuntimeException full) {
      log.warning(() -> "refused a session: " + full.getMessage());
      responses.onError(full);
      return new Refused();
    }
    Session s = new Session((ServerCallStreamObserver<ClientResponse>) responses, grant);
    open.add(s);
    return s;
  }

  /** The refusal of a wrong or missing token; never echoes the token. */
  private static io.grpc.StatusRuntimeException unauthenticated(String request, String token) {
    return Status.UNAUTHENTICATED.withDescription(request + ".auth_token: expected the server's "
        + "token, got " + (token.isEmpty() ? "none" : "a different one")).asRuntimeException();
  }

  /**
   * Server shutdown, grace over: ends every open session with UNAVAILABLE and this
   * description. A request being handled finishes first; its reply is not sent.
   */
  public void goAway(String description) {
    for (Session s : open) {
      s.end(Status.UNAVAILABLE.withDescription(description));
    }
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

  /**
   * One client's session. gRPC runs its callbacks one at a time on the handler executor (never
   * on a network thread); they hold the session's lock only because a draining server may end
   * the session from its own thread ({@link #end}).
   *
   * <p>Flow control: the session asks gRPC for one request at a time, and only while its
   * client reads the replies. A reply goes to the transport while the stream is ready
   * ({@code isReady}); otherwise it waits in a queue. Once --max-queued-replies replies (or
   * --max-queued-reply-bytes bytes) wait, the session reads no more requests until
   * {@code onReady} says the client caught up; HTTP/2 flow control then stops the client from
   * sending more. A client that never reads thus holds a bounded amount of server memory.
   */
  private final class Session implements StreamObserver<ClientRequest> {
    private final ServerCallStreamObserver<ClientResponse> responses;
    private final ServerResources.Grant sessionGrant;
    private final ArrayDeque<ClientResponse> queued = new ArrayDeque<>();
    private long queuedBytes;
    private boolean requested;  // a request(1) is outstanding
    private boolean halfClosed;  // the client sent its last request
    private boolean ended;  // the stream is over (completed or cancelled)
    private boolean greeted;
    private VectorEnv env;
    private ServerResources.Grant envLanes;

    Session(ServerCallStreamObserver<ClientResponse> responses,
        ServerResources.Grant sessionGrant) {
      this.responses = responses;
      this.sessionGrant = sessionGrant;
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
      ClientResponse.Builder reply = ClientResponse.newBuilder().setId(request.getId());
      try {
        handle(request, reply);
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

    private void handle(ClientRequest request, ClientResponse.Builder reply) {
      switch (request.getRequestCase()) {
        case HELLO:
          reply.setHello(hello(request.getHello()));
          return;
        case REQUEST_NOT_SET:
          throw new IllegalArgumentException("request: expected one of hello, make, reset, "
              + "step, close, got none");
        default:
          break;
      }
      if (!greeted) {
        throw new IllegalStateException("request " + request.getRequestCase().name()
            .toLowerCase() + ": expected a hello first");
      }
      switch (request.getRequestCase()) {
        case MAKE:
          reply.setMade(make(request.getMake()));
          break;
        case RESET: {
          VectorEnv e = requireEnv("reset");
          RequestLimits.checkJsonBytes(request.getReset().getOptionsJsonBytes().size(),
              "reset.options_json", limits);
          ResultCodec.Reset r = ResultCodec.decodeReset(request.getReset(), e.numEnvs());
          reply.setResetResult(ResultCodec.encode(e.reset(r.seeds(), r.options(), r.mask())));
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

    private ServerHello hello(ClientHello hello) {
      if (hello.getProtocolVersion() != ProtocolVersion.PROTOCOL_VERSION_1) {
        throw new IllegalStateException("hello.protocol_version: expected PROTOCOL_VERSION_1 (1), "
            + "got " + hello.getProtocolVersionValue());
      }
      if (!options.authorizes(hello.getAuthToken())) {
        throw unauthenticated("hello", hello.getAuthToken());
      }
      greeted = true;
      return ServerHello.newBuilder().setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1)
          .addAllCapabilities(WorkerService.CAPABILITIES)
          .setMaxMessageBytes(ServerOptions.MAX_MESSAGE_BYTES).build();
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

    /** Ends the stream with an error status (from any thread); idempotent. */
    synchronized void end(Status status) {
      if (ended) {
        return;
      }
      ended = true;
      queued.clear();
      queuedBytes = 0;
      release();
      try {
        responses.onError(status.asRuntimeException());
      } catch (IllegalStateException alreadyClosed) {
        // the transport cancelled the call first
      }
    }

    @Override
    public synchronized void onError(Throwable t) {
      ended = true;
      queued.clear();
      queuedBytes = 0;
      release();
    }

    @Override
    public synchronized void onCompleted() {
      halfClosed = true;
      release();
      drain();  // completes the stream once the last replies are out
    }

    private void release() {
      open.remove(this);
      try {
        closeEnv();
      } finally {
        sessionGrant.release();
      }
    }
  }
}
