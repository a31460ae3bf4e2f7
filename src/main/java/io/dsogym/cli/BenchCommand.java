package io.dsogym.cli;

import io.dsogym.bench.BridgeBench;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code bench}: parses the options of a {@link BridgeBench} run and runs it. */
final class BenchCommand implements Main.Command {
  @Override
  public String summary() {
    return "bench [--envs CartPole-v1,HalfCheetah-v5] [--lanes 1,16,64] [--seconds 1] "
        + "[--repeats 9] [--modes server,worker,ahead] [--steps-per-lane 256] "
        + "[--hidden 64,64] [--requests-per-collect 0 (auto)] [--pin CPUS|none (the last allowed "
        + "CPU)] "
        + "[--out bench-results/bench.json]: "
        + "bridge vs raw SyncVectorEnv "
        + "throughput and latency (medians of interleaved repeats)";
  }

  @Override
  public int run(List<String> args, PrintStream out) throws Exception {
    Map<String, String> opts = Main.parseOptions(args,
        List.of("--envs", "--lanes", "--seconds", "--out", "--latency-steps", "--repeats",
            "--modes", "--steps-per-lane", "--hidden", "--requests-per-collect", "--pin"),
        List.of());
    List<String> envs = List.of(opts.getOrDefault("--envs", "CartPole-v1,HalfCheetah-v5")
        .split(","));
    List<Integer> lanes = new ArrayList<>();
    for (String s : opts.getOrDefault("--lanes", "1,16,64").split(",")) {
      try {
        lanes.add(Integer.parseInt(s.trim()));
      } catch (NumberFormatException e) {
        throw new Main.UsageException("--lanes: expected comma-separated integers, got '" + s
            + "'");
      }
    }
    double seconds = Double.parseDouble(opts.getOrDefault("--seconds", "1"));
    int latencySteps = Main.intOption(opts, "--latency-steps", 1000);
    int repeats = Main.intOption(opts, "--repeats", 9);
    if (repeats < 1 || latencySteps < 1) {
      throw new Main.UsageException("--repeats and --latency-steps: expected >= 1, got "
          + repeats + " and " + latencySteps);
    }
    List<String> modes = List.of(opts.getOrDefault("--modes", "server,worker,ahead")
        .split(","));
    if (modes.isEmpty() || !List.of("server", "worker", "ahead").containsAll(modes)) {
      throw new Main.UsageException("--modes: expected a comma-separated subset of server, "
          + "worker, ahead, got '" + opts.get("--modes") + "'");
    }
    int stepsPerLane = Main.intOption(opts, "--steps-per-lane", 256);
    int requests = Main.intOption(opts, "--requests-per-collect", 0);
    if (stepsPerLane < 1) {
      throw new Main.UsageException("--steps-per-lane: expected >= 1, got " + stepsPerLane);
    }
    List<Integer> hidden = parseHidden(opts.getOrDefault("--hidden", ""));
    Path outPath = Path.of(opts.getOrDefault("--out", "bench-results/bench.json"));
    String pin = opts.getOrDefault("--pin", BridgeBench.defaultPythonCpu());
    String cpus = pin.equals("none") ? null : pin;

    BridgeBench.Options options;
    try {
      options = new BridgeBench.Options(envs, lanes, seconds, latencySteps, repeats, modes,
          stepsPerLane, hidden, requests, cpus, outPath);
    } catch (IllegalArgumentException e) {
      throw new Main.UsageException(e.getMessage());
    }
    BridgeBench.run(options, out);
    return 0;
  }

  private static List<Integer> parseHidden(String text) {
    List<Integer> hidden = new ArrayList<>();
    for (String s : text.split(",")) {
      if (s.isBlank()) {
        continue;
      }
      try {
        hidden.add(Integer.parseInt(s.trim()));
      } catch (NumberFormatException e) {
        throw new Main.UsageException("--hidden: expected comma-separated layer sizes, got '"
            + text + "'");
      }
      if (hidden.get(hidden.size() - 1) < 1) {
        throw new Main.UsageException("--hidden: expected sizes >= 1, got '" + text + "'");
      }
    }
    return hidden;
  }
}
