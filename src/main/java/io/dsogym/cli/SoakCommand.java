package io.dsogym.cli;

import io.dsogym.bench.SoakBench;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code soak}: the options of a {@link SoakBench} run. */
@Command(name = "soak", sortOptions = false, showDefaultValues = true,
    abbreviateSynopsis = true,
    header = "Run a loopback server under steady load and report errors, latency and growth.",
    description = {"Starts a server on 127.0.0.1, M Python workers hosting Gymnasium's "
        + "CartPole-v1 (stepped by the server) and N client sessions stepping the Java-native "
        + "CartPole-v1 over gRPC, all for S seconds. Prints and writes steps, errors, the "
        + "p50/p99 of one step's round trip, and the process's RSS and threads at the start "
        + "and the end. Exits 1 if any error occurred."})
final class SoakCommand implements Callable<Integer> {
  @Option(names = "--sessions", paramLabel = "N", defaultValue = "16",
      description = "Client sessions, each stepping one lane.")
  int sessions;

  @Option(names = "--workers", paramLabel = "M", defaultValue = "2",
      description = "Python workers.")
  int workers;

  @Option(names = "--worker-lanes", paramLabel = "L", defaultValue = "4",
      description = "Lanes per worker.")
  int workerLanes;

  @Option(names = "--seconds", paramLabel = "S", defaultValue = "30",
      description = "How long the load runs.")
  double seconds;

  @Option(names = "--out", paramLabel = "FILE", defaultValue = "bench-results/soak.json",
      description = "The JSON file to write.")
  Path out;

  @Mixin
  HelpOption help = new HelpOption();

  @Spec
  CommandSpec spec;

  private final PrintStream console;

  SoakCommand(PrintStream console) {
    this.console = console;
  }

  @Override
  public Integer call() throws Exception {
    SoakBench.Options options = UsageError.check(spec,
        () -> new SoakBench.Options(sessions, workers, workerLanes, seconds, out));
    Map<String, Object> figures = SoakBench.run(options, console);
    return ((Number) figures.get("errors")).longValue() == 0 ? 0 : 1;
  }
}
