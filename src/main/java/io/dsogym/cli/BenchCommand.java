package io.dsogym.cli;

import io.dsogym.bench.BridgeBench;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code bench}: the options of a {@link BridgeBench} run. */
@Command(name = "bench", sortOptions = false, showDefaultValues = true,
    abbreviateSynopsis = true,
    header = "Measure the bridge against raw gymnasium stepping.",
    description = {"Bridge vs raw gymnasium SyncVectorEnv: env-steps/s and round-trip latency "
        + "of the bridge modes, each against raw stepping of the same env and lane count. Raw "
        + "and bridge windows alternate; each bridge window is divided by the mean of the raw "
        + "windows around it, and the medians over the repeats are reported. Prints a table "
        + "and writes JSON."})
final class BenchCommand implements Callable<Integer> {
  @Option(names = "--envs", paramLabel = "IDS", split = ",",
      defaultValue = "CartPole-v1,HalfCheetah-v5",
      description = "Env ids, comma-separated: a table row per env and lane count.")
  List<String> envs;

  @Option(names = "--lanes", paramLabel = "COUNTS", split = ",", defaultValue = "1,16,64",
      description = "Lane counts, comma-separated.")
  List<Integer> lanes;

  @Option(names = "--seconds", paramLabel = "S", defaultValue = "1",
      description = "Length of one measurement window.")
  double seconds;

  @Option(names = "--repeats", paramLabel = "N", defaultValue = "9",
      description = "Windows per mode and row; the medians are reported.")
  int repeats;

  @Option(names = "--latency-steps", paramLabel = "N", defaultValue = "1000",
      description = "server mode: vector steps timed one by one per repeat for the round "
          + "trip's p50 and p99.")
  int latencySteps;

  @Option(names = "--modes", paramLabel = "MODES", split = ",",
      defaultValue = "server,worker,ahead",
      description = "Bridge modes, comma-separated: server (a Java linear policy picks every "
          + "action, one round trip per vector step), worker (worker-side inference: the "
          + "worker samples and streams chunks), ahead (worker with collect-ahead).")
  List<String> modes;

  @Option(names = "--steps-per-lane", paramLabel = "T", defaultValue = "256",
      description = "worker modes: steps per lane per chunk.")
  int stepsPerLane;

  @Option(names = "--hidden", paramLabel = "SIZES", defaultValue = "none",
      description = "worker modes: hidden layer sizes of the policy MLP, e.g. 64,64; empty "
          + "or none: a linear policy.")
  String hidden;

  @Option(names = "--requests-per-collect", paramLabel = "N", defaultValue = "0",
      description = "worker modes: requests one collect is split into; 0: automatic.")
  int requestsPerCollect;

  @Option(names = "--pin", paramLabel = "CPUS|none", description = {"The CPUs the Python "
      + "processes (raw baseline and workers) are pinned to, e.g. 1 or 2-3; none lets them "
      + "roam.", "  Default: the last CPU this process may use (none with fewer than two)."})
  String pin;

  @Option(names = "--out", paramLabel = "FILE", defaultValue = "bench-results/bench.json",
      description = "The JSON file to write.")
  Path out;

  @Mixin
  HelpOption help = new HelpOption();

  @Spec
  CommandSpec spec;

  private final PrintStream console;

  BenchCommand(PrintStream console) {
    this.console = console;
  }

  @Override
  public Integer call() throws Exception {
    String cpus = pin != null ? pin : BridgeBench.defaultPythonCpu();
    BridgeBench.Options options = UsageError.check(spec, () -> new BridgeBench.Options(envs,
        lanes, seconds, latencySteps, repeats, modes, stepsPerLane, layerSizes(hidden),
        requestsPerCollect, cpus.equals("none") ? null : cpus, out));
    BridgeBench.run(options, console);
    return 0;
  }

  /** "64,64" -> [64, 64]; "", "none" -> [] (a linear policy). */
  private List<Integer> layerSizes(String text) {
    List<Integer> sizes = new ArrayList<>();
    if (text.isBlank() || text.trim().equals("none")) {
      return sizes;
    }
    for (String s : text.split(",")) {
      if (s.isBlank()) {
        continue;
      }
      try {
        sizes.add(Integer.parseInt(s.trim()));
      } catch (NumberFormatException e) {
        throw new UsageError(spec, "--hidden: expected comma-separated layer sizes, got '"
            + text + "'");
      }
    }
    return sizes;
  }
}
