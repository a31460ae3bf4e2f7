package io.dsogym.cli;

import io.dsogym.server.DsoGymServer;
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
      description = "Address to listen on; one beyond loopback needs an auth token.")
  String bind;

  @Option(names = "--auth-token", paramLabel = "TOKEN",
      description = {"The token that workers and clients present in their hello; required "
          + "beyond loopback.", "  Default: $DSOGYM_AUTH_TOKEN (none where it is unset)."})
  String authToken;

  @Option(names = "--grace", paramLabel = "SECONDS", defaultValue = "5",
      description = "On SIGINT or SIGTERM: refuse new connections, close idle workers, let "
          + "open sessions and workers in use go on for up to SECONDS, then end them with "
          + "UNAVAILABLE 'dsogym server shutting down'.")
  double grace;

  @Mixin
  HelpOption help = new HelpOption();

  @Spec
  CommandSpec spec;

  private final PrintStream out;

  ServeCommand(PrintStream out) {
    this.out = out;
  }

  @Override
  public Integer call() throws Exception {
    String token = authToken != null ? authToken : System.getenv("DSOGYM_AUTH_TOKEN");
    DsoGymServer server = UsageError.check(spec, () -> DsoGymServer.tcp(bind, port,
        ServerOptions.defaults().withAuthToken(token)));
    if (!(grace >= 0 && grace <= 3600)) {
      throw new UsageError(spec, "--grace: expected seconds in [0, 3600], got " + grace);
    }
    server.start().addShutdownHook(Duration.ofMillis(Math.round(grace * 1000)));
    out.println("dsogym server listening on " + server.address());
    out.flush();
    server.blockUntilShutdown();
    return 0;
  }
}
