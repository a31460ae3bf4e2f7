package io.dsogym.server;

import io.dsogym.remote.WorkerPool;
import io.dsogym.wire.v1.EnvServiceGrpc;
import io.dsogym.wire.v1.OptimizerServiceGrpc;
import io.dsogym.wire.v1.WorkerServiceGrpc;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.services.HealthStatusManager;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * The dsogym gRPC server: {@link WorkerService} (Python workers host envs for Java),
 * {@link EnvSessionService} (clients use Java-native envs and those workers serve) and
 * {@link OptimizerService} (clients in any language use the Java optimizers), with the standard health service
 * ({@code grpc.health.v1.Health}: SERVING while it runs, for "" and each service name) and
 * server reflection (v1 and v1alpha, so grpcurl needs no proto files). In the style of the
 * grpc-java examples: construct, {@link #start}, {@link #blockUntilShutdown}; a JVM shutdown
 * hook stops it.
 *
 * <p>It binds to 127.0.0.1 by default; any other bind address requires an auth token, which
 * every worker and client hello (and {@code ListEnvs}) must then carry, and TLS
 * ({@link ServerTls}) unless plaintext is explicitly allowed. Messages up to
 * {@link ServerOptions#MAX_MESSAGE_BYTES} (64 MiB, stated in the ServerHello) are accepted;
 * larger ones fail only their own call, and unparsable ones get INVALID_ARGUMENT
 * ({@link GarbageGuard}). Requests run on a bounded application executor
 * ({@link ServerLimits#handlerThreads}), never on the network threads, so a slow request (a
 * big make) delays only its own stream; sessions stop reading requests whose replies their
 * client does not read ({@link ServerLimits#maxQueuedReplies}).
 */
public final class DsoGymServer implements AutoCloseable {
  private static final Logger log = Logger.getLogger(DsoGymServer.class.getName());
  public static final String DEFAULT_BIND = "127.0.0.1";
  /** The names the health service answers for: "" (the server as a whole) and each service. */
  static final List<String> SERVICES = List.of(HealthStatusManager.SERVICE_NAME_ALL_SERVICES,
      EnvServiceGrpc.SERVICE_NAME, WorkerServiceGrpc.SERVICE_NAME,
      OptimizerServiceGrpc.SERVICE_NAME);

  /** How long {@link #stop()} lets running calls go on. */
  public static final Duration DEFAULT_GRACE = Duration.ofSeconds(2);
  /** What clients and workers are told when the server shuts down. */
  static final String SHUTTING_DOWN = "dsogym server shutting down";

  private final Server server;
  private final WorkerPool pool;
  private final EnvSessionService sessions;
  private final ServerOptions options;
  private final ServerResources resources;
  private final GarbageGuard garbage = new GarbageGuard();
  private final HealthStatusManager health = new HealthStatusManager();
  private final ThreadPoolExecutor handlers;
  private final String host;

  /**
   * A server over any transport (e.g. {@code InProcessServerBuilder} in tests). Adds the
   * services, the executor and the message size limit to the builder.
   */
  public DsoGymServer(ServerBuilder<?> builder, ServerOptions options) {
    this(builder, options, new WorkerPool(), "in-process");
  }

  private DsoGymServer(ServerBuilder<?> builder, ServerOptions options, WorkerPool pool,
      String host) {
    this.options = options;
    this.pool = pool;
    this.host = host;
    this.resources = new ServerResources(options.limits());
    this.handlers = handlerExecutor(options.limits().handlerThreads());
    this.sessions = new EnvSessionService(options, resources, pool);
    this.server = builder
        .executor(handlers)
        .maxInboundMessageSize(ServerOptions.MAX_MESSAGE_BYTES)
        .addService(garbage.guard(new WorkerService(pool, options, resources).bindService()))
        .addService(garbage.guard(sessions.bindService()))
        .addService(garbage.guard(new OptimizerService(options, resources).bindService()))
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance())
        .addService(reflectionV1Alpha())
        .build();
  }

  /**
   * A TCP server on {@code bindAddress:port} (port 0 picks a free port).
   *
   * @throws IllegalArgumentException for a non-loopback bind address without an auth token, or
   *     without TLS unless plaintext is allowed; for TLS files that do not load; for an address
   *     that does not resolve
   */
  public static DsoGymServer tcp(String bindAddress, int port, ServerOptions options) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port: expected a value in [0, 65535], got " + port);
    }
    String bind = bindAddress == null || bindAddress.isBlank() ? DEFAULT_BIND : bindAddress;
    InetAddress address;
    try {
      address = InetAddress.getByName(bind);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("bind address: expected a resolvable host, got '"
          + bind + "'");
    }
    if (!address.isLoopbackAddress() && options.authToken().isEmpty()) {
      throw new IllegalArgumentException("bind address " + bind + ": expected an auth token "
          + "(--auth-token-file, $DSOGYM_AUTH_TOKEN or --auth-token) when binding beyond "
          + "loopback, got none");
    }
    if (!address.isLoopbackAddress() && options.tls() == null && !options.allowPlaintext()) {
      throw new IllegalArgumentException("bind address " + bind + ": expected TLS (--tls-cert "
          + "and --tls-key) when binding beyond loopback, got none; the auth token would travel "
          + "in clear (--allow-plaintext accepts that)");
    }
    InetSocketAddress socket = new InetSocketAddress(address, port);
    NettyServerBuilder builder;
    if (options.tls() == null) {
      builder = NettyServerBuilder.forAddress(socket);
    } else {
      io.grpc.ServerCredentials credentials = options.tls().credentials();
      try {
        builder = NettyServerBuilder.forAddress(socket, credentials);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--tls-cert, --tls-key, --tls-client-ca: expected a "
            + "PEM certificate chain, its PKCS#8 private key and a PEM CA bundle, got files "
            + "that do not load: " + e.getMessage(), e);
      }
    }
    builder
        .maxInboundMetadataSize(64 * 1024)
        // Detect dead workers even while idle; allow the workers' own 20 s pings.
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS)
        .permitKeepAliveTime(5, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true);
    return new DsoGymServer(builder, options, new WorkerPool(), address.getHostAddress());
  }

  /** A loopback TCP server with default options. */
  public static DsoGymServer tcp(int port) {
    return tcp(DEFAULT_BIND, port, ServerOptions.defaults());
  }

  /**
   * The application executor that runs every request: {@code threads} threads at most (idle
   * ones end after a minute). gRPC runs the callbacks of one call in order, one at a time, so
   * a slow request holds one thread and delays only its own stream; the queue holds at most
   * one task per call, since each session reads its next request only after answering one.
   */
  private static ThreadPoolExecutor handlerExecutor(int threads) {
    AtomicInteger count = new AtomicInteger();
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "dsogym-handler-" + count.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  /** v1alpha reflection too: grpcurl asks for v1 first, older tools only for v1alpha. */
  @SuppressWarnings("deprecation")
  private static io.grpc.BindableService reflectionV1Alpha() {
    return io.grpc.protobuf.services.ProtoReflectionService.newInstance();
  }

  public DsoGymServer start() throws IOException {
    server.start();
    for (String service : SERVICES) {
      health.setStatus(service, HealthCheckResponse.ServingStatus.SERVING);
    }
    log.info(() -> "dsogym server started on " + address() + " ("
        + (options.tls() == null ? "plaintext" : options.tls().describe()) + "; "
        + options.limits().describe() + ")");
    return this;
  }

  /** Drains the server ({@link #stop(Duration)}) on JVM shutdown (Ctrl-C, SIGTERM). */
  public DsoGymServer addShutdownHook(Duration grace) {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        stop(grace);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "dsogym-server-shutdown"));
    return this;
  }

  /** {@link #stop(Duration)} with the {@link #DEFAULT_GRACE}. */
  public void stop() throws InterruptedException {
    stop(DEFAULT_GRACE);
  }

  /**
   * Drains: accepts no new calls (new streams get UNAVAILABLE), closes the idle workers with
   * the reason "dsogym server shutting down" (they exit), and lets open sessions and workers in
   * use go on for up to {@code grace}. Then it ends what is left with UNAVAILABLE and that
   * message (pending worker requests fail with it), and cancels whatever still runs.
   */
  public void stop(Duration grace) throws InterruptedException {
    if (grace.isNegative()) {
      throw new IllegalArgumentException("grace: expected a duration >= 0, got " + grace);
    }
    if (server.isShutdown() && server.isTerminated()) {
      return;
    }
    log.info(() -> "dsogym server shutting down: no new calls; open sessions and workers in use "
        + "have " + grace.toMillis() + " ms");
    health.enterTerminalState();  // health checks answer NOT_SERVING from now on
    server.shutdown();
    sessions.stopResuming();  // no new stream can resume a session now
    pool.closeIdle(SHUTTING_DOWN);
    if (!server.awaitTermination(grace.toNanos(), TimeUnit.NANOSECONDS)) {
      String why = SHUTTING_DOWN + " (its grace period of " + grace.toMillis() + " ms is over)";
      sessions.goAway(why);
      pool.goAwayAll(why);
      if (!server.awaitTermination(1, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    }
    handlers.shutdown();
  }

  /** {@link #stop}, for try-with-resources. */
  @Override
  public void close() throws InterruptedException {
    stop();
  }

  public void blockUntilShutdown() throws InterruptedException {
    server.awaitTermination();
  }

  /** The workers connected to this server. */
  public WorkerPool pool() {
    return pool;
  }

  public ServerOptions options() {
    return options;
  }

  /** Refuses unparsable requests (INVALID_ARGUMENT, a log line a minute per peer). */
  GarbageGuard garbageGuard() {
    return garbage;
  }

  /** The sessions and lanes in use, against {@link ServerLimits}. */
  ServerResources resources() {
    return resources;
  }

  /** The EnvService sessions (kept ones included). */
  EnvSessionService sessions() {
    return sessions;
  }

  /** The bound TCP port, or -1 for a non-TCP server. */
  public int port() {
    return server.getPort();
  }

  /** "HOST:PORT" for a TCP server. */
  public String address() {
    for (SocketAddress a : server.getListenSockets()) {
      if (a instanceof InetSocketAddress inet) {
        String h = inet.getAddress() == null ? host : inet.getAddress().getHostAddress();
        return (h.contains(":") ? "[" + h + "]" : h) + ":" + inet.getPort();
      }
    }
    return host;
  }
}
