package io.dsogym.cli;

import io.dsogym.bench.BridgeBench;
import io.dsogym.bench.TrainBench;
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

/** {@code bench}: the options of a {@link BridgeBench} run, or with --train a {@link TrainBench}. */
@Command(name = "bench", sortOptions = false, showDefaultValues = true,
    abbreviateSynopsis = true,
    header = "Measure the bridge, or training (--train), against raw gymnasium stepping.",
    description = {"Bridge vs raw gymnasium SyncVectorEnv: env-steps/s and round-trip latency "
        + "of the bridge modes, each against raw stepping of the same env and lane count. Raw "
        + "and bridge windows alternate; each bridge window is divided by the mean of the raw "
        + "windows around it, and the medians over the repeats are reported. Prints a table "
        + "and writes JSON.",
        "",
        "With --train: training throughput instead. Per env a real training run with the "
        + "env's presets (--source python, local workers; Pendulum with pco, its 64x64 MLP) "
        + "against raw stepping with the preset's lane count, raw and training alternating; "
        + "prints a table and writes {\"train\": [...]}."})
final class BenchCommand implements Callable<Integer> {
  @Option(names = "--train", description = "Measure training runs against raw stepping "
      + "instead of the bridge modes.")
  boolean train;

  @Option(names = "--envs", paramLabel = "IDS", split = ",",
      description = {"Env ids, comma-separated: a table row per env and lane count.",
          "  Default: CartPole-v1,HalfCheetah-v5; with --train also Pendulum-v1."})
  List<String> envs;

  @Option(names = "--train-steps", paramLabel = "N", description = {"--train: the budget "
      + "of every training run in env steps.", "  Default: per env, CartPole 50000, "
      + "HalfCheetah 100000, Pendulum 50000, others 50000."})
  Long trainSteps;

  @Option(names = "--workers", paramLabel = "COUNTS", split = ",", description = {"--train: "
      + "worker counts, comma-separated: a row per env and count, the preset's lanes split "
      + "over that many local workers (train --num-workers).", "  Default: 1."})
  List<Integer> workers;

  @Option(names = "--lanes", paramLabel = "COUNTS", split = ",", defaultValue = "1,16,64",
      description = "Lane counts, comma-separated.")
  List<Integer> lanes;

  @Option(names = "--seconds", paramLabel = "S", description = {"Length of one measurement "
      + "window (--train: of one raw window).", "  Default: 1; with --train 5."})
  Double seconds;

  @Option(names = "--repeats", paramLabel = "N", description = {"Windows per mode and row "
      + "(--train: training runs per env, each between two raw windows); the medians are "
      + "reported.", "  Default: 9; with --train 1."})
  Integer repeats;

  @Option(names = "--latency-steps", paramLabel = "N", defaultValue = "1000",
      description = "server mode: vector steps timed one by one per repeat for the round "
          + "trip's p50 and p99.")
  int latencySteps;

  @Option(names = "--modes", paramLabel = "MODES", split = ",",
      defaultValue = "server,shm,worker,ahead",
      description = "Bridge modes, comma-separated: server (a Java linear policy picks every "
          + "action, one round trip per vector step over gRPC), shm (the same through shared "
          + "memory), worker (worker-side inference: the "
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

  @Option(names = "--out", paramLabel = "FILE", description = {"The JSON file to write.",
      "  Default: bench-results/bench.json; with --train bench-results/bench-train.json."})
  Path out;

  /** The options only the bridge bench reads. */
  private static final List<String> BRIDGE_ONLY = List.of("--lanes", "--latency-steps",
      "--modes", "--steps-per-lane", "--hidden", "--requests-per-collect");

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
    String pythonCpus = cpus.equals("none") ? null : cpus;
    var parsed = spec.commandLine().getParseResult();
    if (train) {
      for (String name : BRIDGE_ONLY) {
        if (parsed.hasMatchedOption(name)) {
          throw new UsageError(spec, name + ": not read with --train (a training run takes "
              + "its lanes, policy and chunks from the env's presets), got " + name + " "
              + parsed.matchedOption(name).getValue());
        }
      }
      if (trainSteps != null && trainSteps < 1) {
        throw new UsageError(spec, "--train-steps: expected >= 1, got " + trainSteps);
      }
      TrainBench.Options options = UsageError.check(spec, () -> new TrainBench.Options(
          envs != null ? envs : List.of("CartPole-v1", "HalfCheetah-v5", "Pendulum-v1"),
          trainSteps != null ? trainSteps : 0, seconds != null ? seconds : 5,
          repeats != null ? repeats : 1, pythonCpus, workers != null ? workers : List.of(1),
          out != null ? out : Path.of("bench-results/bench-train.json")));
      TrainBench.run(options, console);
      return 0;
    }
    if (trainSteps != null) {
      throw new UsageError(spec, "--train-steps: read only with --train, got --train-steps "
          + trainSteps + " without it");
    }
    if (workers != null) {
      throw new UsageError(spec, "--workers: read only with --train, got --workers "
          + workers + " without it");
    }
    BridgeBench.Options options = UsageError.check(spec, () -> new BridgeBench.Options(
        envs != null ? envs : List.of("CartPole-v1", "HalfCheetah-v5"), lanes,
        seconds != null ? seconds : 1, latencySteps, repeats != null ? repeats : 9, modes,
        stepsPerLane, layerSizes(hidden), requestsPerCollect, pythonCpus,
        out != null ? out : Path.of("bench-results/bench.json")));
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
