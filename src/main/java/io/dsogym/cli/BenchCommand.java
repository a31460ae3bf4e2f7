package io.dsogym.cli;

import io.dsogym.bench.PolicyDriver;
import io.dsogym.bench.RawBaseline;
import io.dsogym.launch.EnvSource;
import io.dsogym.launch.WorkerLauncher;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.remote.WorkerSideCollector;
import io.dsogym.env.Space;
import io.dsogym.remote.RemoteVectorEnv;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policies;
import io.dsogym.policy.PolicySpec;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bench}: env-steps/s through the bridge against raw gymnasium.vector.SyncVectorEnv
 * stepping the same env with the same lane count, measured one after the other in the same
 * run. Three bridge modes, each with a local Python worker: server-side inference (a Java
 * linear policy chooses every action, one round trip per vector step; also the latency of
 * that round trip), worker-side inference (the worker samples from the parameters of a Java
 * linear or MLP policy with numpy and streams K-step chunks; the Java side rebuilds the chain
 * and computes ln pi, as {@link WorkerSideCollector} does for training), and the same with
 * collect-ahead (the next chunk is submitted before the last one is awaited). Prints a table
 * and writes JSON.
 *
 * <p>The Python processes (raw baseline and workers) run pinned to one CPU, by default the
 * last one this process may use ({@code --pin none} lets them roam). For each env and lane
 * count one raw process and one worker per mode are started and warmed up once; then raw and
 * bridge windows alternate, and each bridge figure is divided by the mean of the raw windows
 * just before and after it. On a shared machine single windows move by 10-30%, so many short
 * paired windows (and their median) estimate a ratio better than a few long ones.
 */
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
    boolean serverSide = modes.contains("server");
    int stepsPerLane = Main.intOption(opts, "--steps-per-lane", 256);
    int requests = Main.intOption(opts, "--requests-per-collect", 0);
    if (stepsPerLane < 1) {
      throw new Main.UsageException("--steps-per-lane: expected >= 1, got " + stepsPerLane);
    }
    List<Integer> hidden = parseHidden(opts.getOrDefault("--hidden", ""));
    Path outPath = Path.of(opts.getOrDefault("--out", "bench-results/bench.json"));
    String python = WorkerLauncher.defaultPython();
    // The Python side (raw baseline and worker alike) runs on one CPU of its own, away from
    // the server, so the scheduler cannot move it between cores mid-round-trip or put it
    // beside the server's threads; both figures of a ratio get the same CPU.
    String pin = opts.getOrDefault("--pin", defaultPythonCpu());
    String cpus = pin.equals("none") ? null : pin;

    List<Map<String, Object>> rows = new ArrayList<>();
    int requestsPerCollect = 0;
    out.printf(Locale.ROOT, "%-16s %5s %11s %11s %7s %7s %7s %11s %7s %6s %11s %7s%n", "env",
        "lanes", "raw st/s", "server st/s", "srv/raw", "p50 us", "p99 us", "worker st/s",
        "wrk/raw", "w.env", "ahead st/s", "ahd/raw");
    for (String env : envs) {
      for (int n : lanes) {
        // Raw and the bridge modes alternate `repeats` times and the medians are reported; each
        // bridge figure is divided by the mean of the raw windows just before and after it,
        // which cancels the machine's drift.
        List<Double> raws = new ArrayList<>();
        Series server = new Series(repeats);
        double[] p50s = new double[repeats];
        double[] p99s = new double[repeats];
        Series worker = new Series(repeats);
        Series ahead = new Series(repeats);
        // One raw process and one worker per mode live for the whole row, each built and
        // warmed up once; their windows then alternate seconds apart.
        try (RawBaseline raw = RawBaseline.start(python, env, n, cpus);
            ServerSideBench serverBench = serverSide ? new ServerSideBench(env, n, cpus) : null;
            WorkerSideBench workerBench = modes.contains("worker") ? new WorkerSideBench(env, n,
                hidden, stepsPerLane, requests, false, cpus) : null;
            WorkerSideBench aheadBench = modes.contains("ahead") ? new WorkerSideBench(env, n,
                hidden, stepsPerLane, requests, true, cpus) : null) {
          double[] before = {raw.stepsPerSecond(seconds)};
          raws.add(before[0]);
          // one bridge window, then a raw one; the ratio is over the raw windows around it
          java.util.function.BiConsumer<Series, double[]> record = (series, window) -> {
            try {
              double after = raw.stepsPerSecond(seconds);
              raws.add(after);
              series.add(window, (before[0] + after) / 2);
              before[0] = after;
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          };
          for (int r = 0; r < repeats; r++) {
            if (serverBench != null) {
              double steps = serverBench.stepsPerSecond(seconds);
              long[] lat = serverBench.latencies(latencySteps);
              p50s[r] = PolicyDriver.quantileMicros(lat, latencySteps, 0.5);
              p99s[r] = PolicyDriver.quantileMicros(lat, latencySteps, 0.99);
              record.accept(server, new double[] {steps, Double.NaN, Double.NaN});
            }
            if (workerBench != null) {
              record.accept(worker, workerBench.measure(seconds));
              requestsPerCollect = workerBench.requestsPerCollect();
            }
            if (aheadBench != null) {
              record.accept(ahead, aheadBench.measure(seconds));
            }
          }
        }
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("env", env);
        row.put("lanes", n);
        double[] rawSamples = raws.stream().mapToDouble(Double::doubleValue).toArray();
        row.put("raw_steps_per_sec", median(rawSamples));
        Map<String, Object> samples = new LinkedHashMap<>();
        samples.put("raw_steps_per_sec", rawSamples);
        if (serverSide) {
          row.put("bridge_steps_per_sec", median(server.steps));
          row.put("ratio", median(server.ratios));
          row.put("round_trip_p50_us", median(p50s));
          row.put("round_trip_p99_us", median(p99s));
          samples.put("bridge_steps_per_sec", server.steps);
          samples.put("ratio", server.ratios);
          samples.put("round_trip_p50_us", p50s);
        }
        if (modes.contains("worker")) {
          worker.put("worker", row, samples);
        }
        if (modes.contains("ahead")) {
          ahead.put("ahead", row, samples);
        }
        row.put("samples", samples);
        rows.add(row);
        out.printf(Locale.ROOT, "%-16s %5d %11.0f %11s %7s %7s %7s %11s %7s %6s %11s %7s%n",
            env, n, median(rawSamples), cell(serverSide, median(server.steps), "%.0f"),
            cell(serverSide, median(server.ratios), "%.3f"),
            cell(serverSide, median(p50s), "%.0f"), cell(serverSide, median(p99s), "%.0f"),
            cell(modes.contains("worker"), median(worker.steps), "%.0f"),
            cell(modes.contains("worker"), median(worker.ratios), "%.3f"),
            cell(modes.contains("worker"), median(worker.envShares), "%.2f"),
            cell(modes.contains("ahead"), median(ahead.steps), "%.0f"),
            cell(modes.contains("ahead"), median(ahead.ratios), "%.3f"));
        out.flush();
      }
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("when", Instant.now().toString());
    doc.put("cores", Runtime.getRuntime().availableProcessors());
    doc.put("java", System.getProperty("java.version"));
    doc.put("seconds_per_measurement", seconds);
    doc.put("repeats", repeats);
    doc.put("statistic", "median over the repeats; one raw process and one worker per mode "
        + "live for the whole row, their windows alternate, and each bridge window is divided "
        + "by the mean of the raw windows just before and after it");
    doc.put("python_cpus", cpus == null ? "any" : cpus);
    doc.put("modes", modes);
    doc.put("server_mode", "server-side inference: Java linear policy, one Python worker, "
        + "SAME_STEP, one round trip per vector step, info omitted (the worker steps its lanes "
        + "one by one)");
    doc.put("worker_mode", "worker-side inference: the worker samples with numpy from a Java "
        + (hidden.isEmpty() ? "linear" : "MLP " + hidden + " tanh") + " policy's parameters "
        + "(observation normalizer on, theta changed and resent every chunk as in training), "
        + stepsPerLane + " steps per lane per chunk; the worker steps each lane's env itself "
        + "(its default --collect-loop lanes: SyncVectorEnv's SAME_STEP semantics without its "
        + "info dicts); Java rebuilds the chain and computes ln pi; worker_env_share / "
        + "worker_policy_share: fractions of the wall time the worker spent stepping the env / "
        + "sampling and recording");
    doc.put("ahead_mode", "the worker mode with collect-ahead (train --collect-ahead): each "
        + "collect submits the next chunk under the new theta before waiting for the one "
        + "submitted by the previous collect, so the worker never waits for this side; "
        + "batches are one update stale (off-chain, ratio-corrected in training)");
    doc.put("steps_per_lane", stepsPerLane);
    doc.put("requests_per_collect", requestsPerCollect);
    doc.put("hidden", hidden);
    doc.put("baseline", "gymnasium.vector.SyncVectorEnv in one Python process, actions "
        + "pre-sampled (env stepping alone)");
    doc.put("results", rows);
    Gson gson = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
        .create();
    if (outPath.getParent() != null) {
      Files.createDirectories(outPath.getParent());
    }
    Files.writeString(outPath, gson.toJson(doc) + "\n");
    out.println("wrote " + outPath);
    return 0;
  }

  /** One bridge mode's windows in a row: steps/s, ratio to raw, the worker's time shares. */
  private static final class Series {
    final double[] steps;
    final double[] ratios;
    final double[] envShares;
    final double[] policyShares;
    private int size;

    Series(int repeats) {
      steps = new double[repeats];
      ratios = new double[repeats];
      envShares = new double[repeats];
      policyShares = new double[repeats];
    }

    /** window: steps/s and the two shares (NaN where the mode has none). */
    void add(double[] window, double rawAround) {
      steps[size] = window[0];
      ratios[size] = window[0] / rawAround;
      envShares[size] = window[1];
      policyShares[size] = window[2];
      size++;
    }

    void put(String prefix, Map<String, Object> row, Map<String, Object> samples) {
      row.put(prefix + "_steps_per_sec", median(steps));
      row.put(prefix + "_ratio", median(ratios));
      row.put(prefix + "_env_share", median(envShares));
      row.put(prefix + "_policy_share", median(policyShares));
      samples.put(prefix + "_steps_per_sec", steps);
      samples.put(prefix + "_ratio", ratios);
    }
  }

  /** Server-side inference on one local worker: a Java linear policy picks every action. */
  private static final class ServerSideBench implements AutoCloseable {
    private final EnvSource src;
    private final PolicyDriver driver;

    ServerSideBench(String env, int lanes, String cpus) throws Exception {
      src = EnvSource.open("python", env, lanes, null, Duration.ofSeconds(60), cpus);
      try {
        driver = new PolicyDriver(src.env, 0);
        driver.runFor(1.0);  // warm-up: JIT, caches, connection
      } catch (Exception | Error e) {
        src.close();
        throw e;
      }
    }

    double stepsPerSecond(double seconds) {
      long stepsBefore = driver.envSteps;
      long t0 = System.nanoTime();
      driver.runFor(seconds);
      return (driver.envSteps - stepsBefore) / ((System.nanoTime() - t0) / 1e9);
    }

    /** The duration of each of {@code steps} vector steps. */
    long[] latencies(int steps) {
      long[] lat = new long[steps];
      driver.run(steps, lat);
      return lat;
    }

    @Override
    public void close() throws InterruptedException {
      src.close();
    }
  }

  /**
   * Worker-side inference on one local worker, as {@link WorkerSideCollector} runs it in
   * training: theta changes every chunk, so the policy is resent every chunk; with
   * collect-ahead or without.
   */
  private static final class WorkerSideBench implements AutoCloseable {
    private final EnvSource src;
    private final WorkerSideCollector collector;
    private final double[] theta;
    private final ObservationNormalizer normalizer;
    private final TrajectoryBatch batch;
    private final int stepsPerLane;

    WorkerSideBench(String env, int lanes, List<Integer> hidden, int stepsPerLane,
        int requests, boolean collectAhead, String cpus) throws Exception {
      this.stepsPerLane = stepsPerLane;
      src = EnvSource.open("python", env, lanes, null, Duration.ofSeconds(60), cpus);
      try {
        RemoteVectorEnv remote = (RemoteVectorEnv) src.env;
        MlpPolicy policy = Policies.forEnv(remote.spec(), hidden, PolicySpec.Activation.TANH,
            0.0);
        theta = policy.initialTheta(0);
        int obsDim = ((Space.Box) remote.spec().observationSpace()).size();
        normalizer = new ObservationNormalizer(obsDim, true, 10.0);
        batch = new TrajectoryBatch(obsDim, policy.actionDim());
        collector = new WorkerSideCollector(remote, policy, 0);
        collector.setRequestsPerCollect(requests);
        collector.setCollectAhead(collectAhead);
        collector.reset(0);
        long deadline = System.nanoTime() + 1_000_000_000L;  // warm-up
        while (System.nanoTime() < deadline) {
          collector.collect(theta, normalizer, stepsPerLane, batch);
        }
        collector.awaitSubmitted(batch);  // nothing runs between windows
      } catch (Exception | Error e) {
        src.close();
        throw e;
      }
    }

    /**
     * Collects for {@code seconds} (whole chunks): env-steps/s and the fractions of the wall
     * time the worker spent in the env and in its sampler.
     */
    double[] measure(double seconds) {
      long steps = 0;
      double envBefore = collector.workerEnvSeconds();
      double policyBefore = collector.workerPolicySeconds();
      long t0 = System.nanoTime();
      long deadline = t0 + (long) (seconds * 1e9);
      while (System.nanoTime() < deadline) {
        theta[0] += 1e-9;  // a new theta every chunk, as in training: the policy is resent
        collector.collect(theta, normalizer, stepsPerLane, batch);
        steps += batch.size();
      }
      // collect-ahead leaves a chunk running: count it here, or it would run unseen during
      // the next raw window (slowing it) and be counted in the next window of this mode
      if (collector.awaitSubmitted(batch)) {
        steps += batch.size();
      }
      double elapsed = (System.nanoTime() - t0) / 1e9;
      return new double[] {steps / elapsed,
          (collector.workerEnvSeconds() - envBefore) / elapsed,
          (collector.workerPolicySeconds() - policyBefore) / elapsed};
    }

    int requestsPerCollect() {
      return collector.requestsPerCollect(stepsPerLane);
    }

    @Override
    public void close() throws InterruptedException {
      src.close();
    }
  }

  /**
   * The last CPU this process may run on (Linux: /proc/self/status, which respects cgroup
   * cpusets), or "none" with fewer than two CPUs or where that cannot be read.
   */
  static String defaultPythonCpu() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Cpus_allowed_list:")) {
          List<Integer> cpus = new ArrayList<>();
          for (String part : line.substring(line.indexOf(':') + 1).trim().split(",")) {
            String[] range = part.split("-");
            int lo = Integer.parseInt(range[0].trim());
            int hi = Integer.parseInt(range[range.length - 1].trim());
            for (int c = lo; c <= hi; c++) {
              cpus.add(c);
            }
          }
          return cpus.size() >= 2 ? Integer.toString(cpus.get(cpus.size() - 1)) : "none";
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not Linux, or an unexpected format: let the scheduler place the Python processes
    }
    return "none";
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

  private static String cell(boolean measured, double value, String format) {
    return measured ? String.format(Locale.ROOT, format, value) : "-";
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    int m = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }
}
