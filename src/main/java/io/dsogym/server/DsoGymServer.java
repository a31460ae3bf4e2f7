package io.dsogym.server;

import io.dsogym.remote.WorkerPool;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * The dsogym gRPC server: {@link WorkerService} (Python workers host envs for Java) and
 * {@link EnvSessionService} (clients use Java-native envs). In the style of the grpc-java
 * examples: construct, {@link #start}, {@link #blockUntilShutdown}; a JVM shutdown hook stops
 * it.
 *
 * <p>It binds to 127.0.0.1 by default; any other bind address requires an auth token, which
 * every worker and client hello must then carry. Messages up to
 * {@link ServerOptions#MAX_MESSAGE_BYTES} (64 MiB, stated in the ServerHello) are accepted;
 * larger or malformed ones fail only their own call. Services run on the transport's threads
 * ({@code directExecutor}): a request is handled where it arrives, with no thread hop.
 */
public final class DsoGymServer implements AutoCloseable {
  private static final Logger log = Logger.getLogger(DsoGymServer.class.getName());
  public static final String DEFAULT_BIND = "127.0.0.1";

  /** How long {@link #stop()} lets running calls go on. */
  public static final Duration DEFAULT_GRACE = Duration.ofSeconds(2);
  /** What clients and workers are told when the server shuts down. */
  static final String SHUTTING_DOWN = "dsogym server shutting down";

  private final Server server;
  private final WorkerPool pool;
  private final EnvSessionService sessions;
  private final ServerOptions options;
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
    this.sessions = new EnvSessionService(options);
    this.server = builder
        .directExecutor()
        .maxInboundMessageSize(ServerOptions.MAX_MESSAGE_BYTES)
        .addService(new WorkerService(pool, options))
        .addService(sessions)
        .build();
  }

  /**
   * A TCP server on {@code bindAddress:port} (port 0 picks a free port).
   *
   * @throws IllegalArgumentException for a non-loopback bind address without an auth token, or
   *     an address that does not resolve
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
          + "(--auth-token) when binding beyond loopback, got none");
    }
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(address,
            port))
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

  public DsoGymServer start() throws IOException {
    server.start();
    log.info(() -> "dsogym server started on " + address());
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
    server.shutdown();
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
