package io.dsogym.cli;

import io.dsogym.server.DsoGymServer;
import io.dsogym.server.ServerLimits;
import io.dsogym.server.ServerOptions;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code serve}: the env server that Python workers and clients connect to. */
@Command(name = "serve", sortOptions = false, showDefaultValues = true,
    header = "Run the server that Python workers and clients connect to.",
    description = "Workers (python -m dsogym.worker) and clients (gymnasium's "
        + "dsogym/Remote-v0) connect to it. Prints 'dsogym server listening on HOST:PORT' and "
        + "runs until stopped.")
final class ServeCommand implements Callable<Integer> {
  @Option(names = "--port", paramLabel = "PORT", defaultValue = "50051",
      description = "TCP port to listen on; 0: any free port.")
  int port;

  @Option(names = "--bind", paramLabel = "ADDR", defaultValue = DsoGymServer.DEFAULT_BIND,
      description = "Address to listen on; one beyond loopback needs an auth token and TLS "
          + "(or --allow-plaintext).")
  String bind;

  @Mixin
  ServerSecurity security = new ServerSecurity();

  @Option(names = "--grace", paramLabel = "SECONDS", defaultValue = "5",
      description = "On SIGINT or SIGTERM: refuse new connections, close idle workers, let "
          + "open sessions and workers in use go on for up to SECONDS, then end them with "
          + "UNAVAILABLE 'dsogym server shutting down'.")
  double grace;

  @Option(names = "--resume-grace", paramLabel = "SECONDS", defaultValue = "30",
      description = "How long a session whose connection broke keeps its env and lanes for "
          + "its client to resume it (docs/protocol.md, Session resume); 0: never.")
  double resumeGrace;

  @Option(names = "--max-session-lanes", paramLabel = "N",
      defaultValue = "" + ServerLimits.DEFAULT_MAX_SESSION_LANES,
      description = "The most lanes one session may make; more: INVALID_ARGUMENT.")
  int maxSessionLanes;

  @Option(names = "--max-worker-lanes", paramLabel = "N",
      defaultValue = "" + ServerLimits.DEFAULT_MAX_WORKER_LANES,
      description = "The most lanes one worker may declare in its hello; more: refused.")
  int maxWorkerLanes;

  @Option(names = "--max-total-lanes", paramLabel = "N",
      defaultValue = "" + ServerLimits.DEFAULT_MAX_TOTAL_LANES,
      description = "The most lanes of all sessions and workers together; more: "
          + "RESOURCE_EXHAUSTED.")
  int maxTotalLanes;

  @Option(names = "--max-kwargs-bytes", paramLabel = "BYTES",
      defaultValue = "" + ServerLimits.DEFAULT_MAX_KWARGS_BYTES,
      description = "The largest make kwargs and reset options, as JSON bytes.")
  int maxKwargsBytes;

  @Option(names = "--max-matrix-dim", paramLabel = "N",
      defaultValue = "" + ServerLimits.DEFAULT_MAX_MATRIX_DIM,
      description = "The most items of any list in make kwargs: the rows and columns of a "
          + "matrix, so LQR's state and action sizes.")
  int maxMatrixDim;

  @Option(names = "--max-sessions", paramLabel = "N",
      defaultValue = "" + ServerLimits.DEFAULT_MAX_SESSIONS,
      description = "The most sessions open at once; more: RESOURCE_EXHAUSTED.")
  int maxSessions;

  @Option(names = "--max-queued-replies", paramLabel = "N",
      defaultValue = "" + ServerLimits.DEFAULT_MAX_QUEUED_REPLIES,
      description = "Replies a session may leave unread before the server stops reading its "
          + "requests.")
  int maxQueuedReplies;

  @Option(names = "--max-queued-reply-bytes", paramLabel = "BYTES",
      defaultValue = "" + ServerLimits.DEFAULT_MAX_QUEUED_REPLY_BYTES,
      description = "The same in bytes (one reply of any size may always wait).")
  int maxQueuedReplyBytes;

  @Option(names = "--handler-threads", paramLabel = "N",
      defaultValue = "" + ServerLimits.DEFAULT_HANDLER_THREADS,
      description = "Threads that run requests, apart from the network threads; a slow "
          + "request holds one.")
  int handlerThreads;

  @Mixin
  HelpOption help = new HelpOption();

  @Spec
  CommandSpec spec;

  private final PrintStream out;

  ServeCommand(PrintStream out) {
    this.out = out;
  }

  ServerLimits limits() {
    return new ServerLimits(maxSessionLanes, maxWorkerLanes, maxTotalLanes, maxKwargsBytes,
        maxMatrixDim, maxSessions, maxQueuedReplies, maxQueuedReplyBytes, handlerThreads);
  }

  @Override
  public Integer call() throws Exception {
    if (!(grace >= 0 && grace <= 3600)) {
      throw new UsageError(spec, "--grace: expected seconds in [0, 3600], got " + grace);
    }
    if (!(resumeGrace >= 0 && resumeGrace <= 3600)) {
      throw new UsageError(spec, "--resume-grace: expected seconds in [0, 3600], got "
          + resumeGrace);
    }
    ServerOptions options = security.apply(ServerOptions.defaults(), spec, System.getenv())
        .withResumeGrace(Duration.ofMillis(Math.round(resumeGrace * 1000)));
    DsoGymServer server = UsageError.check(spec, () -> DsoGymServer.tcp(bind, port,
        options.withLimits(limits())));
    server.start().addShutdownHook(Duration.ofMillis(Math.round(grace * 1000)));
    out.println("dsogym server listening on " + server.address());
    out.flush();
    server.blockUntilShutdown();
    return 0;
  }
}
