package io.dsogym.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import io.dsogym.dso.TrajectoryBatch;
import io.dsogym.dso.WorkerSideCollector;
import io.dsogym.env.Space;
import io.dsogym.env.remote.RemoteVectorEnv;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policies;
import io.dsogym.policy.PolicySpec;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
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
 * run. Two bridge modes, each with a local Python worker: server-side inference (a Java
 * linear policy chooses every action, one round trip per vector step; also the latency of
 * that round trip) and worker-side inference (the worker samples from the parameters of a
 * Java linear or MLP policy with numpy and streams K-step chunks; the Java side rebuilds the
 * chain and computes ln pi, as {@link WorkerSideCollector} does for training). Prints a table
 * and writes JSON.
 *
 * <p>The Python processes (raw baseline and workers) run pinned to one CPU, by default the
 * last one this process may use ({@code --pin none} lets them roam); each bridge figure is
 * divided by the mean of the raw figures measured just before and after it.
 */
final class BenchCommand implements Main.Command {
  @Override
  public String summary() {
    return "bench [--envs CartPole-v1,HalfCheetah-v5] [--lanes 1,16,64] [--seconds 5] "
        + "[--repeats 3] [--inference server|worker|both] [--steps-per-lane 256] "
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
            "--inference", "--steps-per-lane", "--hidden", "--requests-per-collect", "--pin"),
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
    double seconds = Double.parseDouble(opts.getOrDefault("--seconds", "5"));
    int latencySteps = Main.intOption(opts, "--latency-steps", 3000);
    int repeats = Main.intOption(opts, "--repeats", 3);
    if (repeats < 1 || latencySteps < 1) {
      throw new Main.UsageException("--repeats and --latency-steps: expected >= 1, got "
          + repeats + " and " + latencySteps);
    }
    String inference = opts.getOrDefault("--inference", "both");
    if (!List.of("server", "worker", "both").contains(inference)) {
      throw new Main.UsageException("--inference: expected server, worker or both, got '"
          + inference + "'");
    }
    boolean serverSide = !inference.equals("worker");
    boolean workerSide = !inference.equals("server");
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
    out.printf(Locale.ROOT, "%-16s %5s %12s %12s %7s %8s %8s %12s %7s %6s %6s%n", "env",
        "lanes", "raw steps/s", "server st/s", "srv/raw", "p50 us", "p99 us", "worker st/s",
        "wrk/raw", "w.env", "w.pol");
    for (String env : envs) {
      for (int n : lanes) {
        // Raw and the bridge modes alternate `repeats` times and the medians are reported: on
        // a shared 2-core machine single measurements move by 10-30%.
        // Each bridge figure is divided by the mean of the raw figures measured just before and
        // just after it, which cancels the machine's drift over the minute a repeat takes.
        List<Double> raws = new ArrayList<>();
        double[] bridges = new double[repeats];
        double[] ratios = new double[repeats];
        double[] p50s = new double[repeats];
        double[] p99s = new double[repeats];
        double[] workers = new double[repeats];
        double[] workerRatios = new double[repeats];
        double[] envShares = new double[repeats];
        double[] policyShares = new double[repeats];
        for (int r = 0; r < repeats; r++) {
          double before = rawStepsPerSecond(python, env, n, seconds, cpus);
          raws.add(before);
          if (serverSide) {
            try (EnvSource src = EnvSource.open("python", env, n, null,
                Duration.ofSeconds(60), cpus)) {
              PolicyDriver driver = new PolicyDriver(src.env, 0);
              driver.runFor(1.0);  // warm-up: JIT, caches, connection; same policy every repeat
              long stepsBefore = driver.envSteps;
              long t0 = System.nanoTime();
              driver.runFor(seconds);
              bridges[r] = (driver.envSteps - stepsBefore) / ((System.nanoTime() - t0) / 1e9);
              long[] lat = new long[latencySteps];
              driver.run(latencySteps, lat);
              p50s[r] = PolicyDriver.quantileMicros(lat, latencySteps, 0.5);
              p99s[r] = PolicyDriver.quantileMicros(lat, latencySteps, 0.99);
            }
            double after = rawStepsPerSecond(python, env, n, seconds, cpus);
            raws.add(after);
            ratios[r] = bridges[r] / ((before + after) / 2);
            before = after;
          }
          if (workerSide) {
            double[] w = workerStepsPerSecond(env, n, hidden, stepsPerLane, requests,
                seconds, cpus);
            workers[r] = w[0];
            envShares[r] = w[1];
            policyShares[r] = w[2];
            double after = rawStepsPerSecond(python, env, n, seconds, cpus);
            raws.add(after);
            workerRatios[r] = workers[r] / ((before + after) / 2);
            requestsPerCollect = (int) w[3];
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
          row.put("bridge_steps_per_sec", median(bridges));
          row.put("ratio", median(ratios));
          row.put("round_trip_p50_us", median(p50s));
          row.put("round_trip_p99_us", median(p99s));
          samples.put("bridge_steps_per_sec", bridges);
          samples.put("ratio", ratios);
          samples.put("round_trip_p50_us", p50s);
        }
        if (workerSide) {
          row.put("worker_steps_per_sec", median(workers));
          row.put("worker_ratio", median(workerRatios));
          row.put("worker_env_share", median(envShares));
          row.put("worker_policy_share", median(policyShares));
          samples.put("worker_steps_per_sec", workers);
          samples.put("worker_ratio", workerRatios);
        }
        row.put("samples", samples);
        rows.add(row);
        out.printf(Locale.ROOT, "%-16s %5d %12.0f %12s %7s %8s %8s %12s %7s %6s %6s%n", env, n,
            median(rawSamples), cell(serverSide, median(bridges), "%.0f"),
            cell(serverSide, median(ratios), "%.3f"), cell(serverSide, median(p50s), "%.0f"),
            cell(serverSide, median(p99s), "%.0f"), cell(workerSide, median(workers), "%.0f"),
            cell(workerSide, median(workerRatios), "%.3f"),
            cell(workerSide, median(envShares), "%.2f"),
            cell(workerSide, median(policyShares), "%.2f"));
        out.flush();
      }
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("when", Instant.now().toString());
    doc.put("cores", Runtime.getRuntime().availableProcessors());
    doc.put("java", System.getProperty("java.version"));
    doc.put("seconds_per_measurement", seconds);
    doc.put("repeats", repeats);
    doc.put("statistic", "median over the repeats; raw and bridge alternate, and each bridge "
        + "figure is divided by the mean of the raw figures just before and after it");
    doc.put("python_cpus", cpus == null ? "any" : cpus);
    doc.put("inference", inference);
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

  /**
   * Worker-side inference for {@code seconds} after a 1 s warm-up: returns env-steps/s, the
   * fractions of the wall time the worker spent in the env and in its sampler, and the
   * requests per collect.
   */
  private static double[] workerStepsPerSecond(String env, int n, List<Integer> hidden,
      int stepsPerLane, int requests, double seconds, String cpus) throws Exception {
    try (EnvSource src = EnvSource.open("python", env, n, null, Duration.ofSeconds(60),
        cpus)) {
      RemoteVectorEnv remote = (RemoteVectorEnv) src.env;
      MlpPolicy policy = Policies.forEnv(remote.spec(), hidden, PolicySpec.Activation.TANH,
          0.0);
      double[] theta = policy.initialTheta(0);
      int obsDim = ((Space.Box) remote.spec().observationSpace()).size();
      ObservationNormalizer normalizer = new ObservationNormalizer(obsDim, true, 10.0);
      TrajectoryBatch batch = new TrajectoryBatch(obsDim, policy.actionDim());
      WorkerSideCollector collector = new WorkerSideCollector(remote, policy, 0);
      collector.setRequestsPerCollect(requests);
      collector.reset(0);
      long deadline = System.nanoTime() + 1_000_000_000L;
      while (System.nanoTime() < deadline) {
        collector.collect(theta, normalizer, stepsPerLane, batch);
      }
      long steps = 0;
      double envBefore = collector.workerEnvSeconds();
      double policyBefore = collector.workerPolicySeconds();
      long t0 = System.nanoTime();
      deadline = t0 + (long) (seconds * 1e9);
      while (System.nanoTime() < deadline) {
        theta[0] += 1e-9;  // a new theta every chunk, as in training: the policy is resent
        collector.collect(theta, normalizer, stepsPerLane, batch);
        steps += batch.size();
      }
      double elapsed = (System.nanoTime() - t0) / 1e9;
      return new double[] {steps / elapsed,
          (collector.workerEnvSeconds() - envBefore) / elapsed,
          (collector.workerPolicySeconds() - policyBefore) / elapsed,
          collector.requestsPerCollect(stepsPerLane)};
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

  /** Runs python -m dsogym.bench_raw and reads its JSON line. */
  private static double rawStepsPerSecond(String python, String env, int lanes, double seconds,
      String cpus) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(python, "-m", "dsogym.bench_raw", "--env", env,
        "--num-envs", Integer.toString(lanes), "--seconds", Double.toString(seconds)));
    if (cpus != null) {
      cmd.addAll(List.of("--cpus", cpus));
    }
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String last = null;
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
        StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        if (line.startsWith("{")) {
          last = line;
        }
      }
    }
    int code = p.waitFor();
    if (code != 0 || last == null) {
      throw new IllegalStateException("raw baseline for " + env + " x" + lanes
          + " failed with exit code " + code);
    }
    return new Gson().fromJson(last, JsonObject.class).get("steps_per_sec").getAsDouble();
  }
}
