package io.dsogym.bench;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.env.Space;
import io.dsogym.launch.EnvSource;
import io.dsogym.launch.WorkerLauncher;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policies;
import io.dsogym.policy.PolicySpec;
import io.dsogym.remote.RemoteVectorEnv;
import io.dsogym.remote.WorkerSideCollector;
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
 * The bridge bench ({@code dsogym bench}): env-steps/s through the bridge against raw
 * gymnasium.vector.SyncVectorEnv stepping the same env with the same lane count, measured one
 * after the other in the same run. Four bridge modes, each with a local Python worker:
 * server-side inference (a Java linear policy chooses every action, one round trip per vector
 * step; also the latency of that round trip) over the gRPC stream ("server") and through shared
 * memory ("shm", capability shm_steps), worker-side inference (the worker samples from
 * the parameters of a Java linear or MLP policy with numpy and streams K-step chunks; the Java
 * side rebuilds the chain and computes ln pi, as {@link WorkerSideCollector} does for
 * training), and the same with collect-ahead (the next chunk is submitted before the last one
 * is awaited). Prints a table and writes JSON.
 *
 * <p>The Python processes (raw baseline and workers) run pinned to the CPUs of
 * {@link Options#pythonCpus()} (the command line's default is {@link #defaultPythonCpu()}, the
 * last CPU this process may use). For each env and lane count one raw process and one worker
 * per mode are started and warmed up once; then raw and bridge windows alternate, and each
 * bridge figure is divided by the mean of the raw windows just before and after it. On a
 * shared machine single windows move by 10-30%, so many short paired windows (and their
 * median) estimate a ratio better than a few long ones.
 */
public final class BridgeBench {
  /** The bridge modes, in table order. */
  public static final List<String> MODES = List.of("server", "shm", "worker", "ahead");

  /**
   * What one bench run measures. Invalid values throw {@link IllegalArgumentException} naming
   * the command-line option.
   *
   * @param envs env ids, one table row per env and lane count
   * @param lanes lane counts
   * @param seconds the length of one measurement window
   * @param latencySteps vector steps timed one by one per repeat for the round-trip latency
   *     (server mode)
   * @param repeats windows per mode and row; the medians are reported
   * @param modes a subset of {@link #MODES}
   * @param stepsPerLane worker modes: steps per lane per chunk
   * @param hidden worker modes: the policy's hidden layer sizes (empty: linear)
   * @param requestsPerCollect worker modes: requests a collect is split into (0: automatic)
   * @param pythonCpus the CPUs the Python processes are pinned to (a taskset list), or null to
   *     let them roam
   * @param out the JSON file written at the end
   */
  public record Options(List<String> envs, List<Integer> lanes, double seconds,
      int latencySteps, int repeats, List<String> modes, int stepsPerLane, List<Integer> hidden,
      int requestsPerCollect, String pythonCpus, Path out) {
    public Options {
      envs = List.copyOf(envs);
      lanes = List.copyOf(lanes);
      modes = List.copyOf(modes);
      hidden = List.copyOf(hidden);
      if (envs.isEmpty() || envs.stream().anyMatch(String::isBlank)) {
        throw new IllegalArgumentException("--envs: expected comma-separated env ids, got "
            + envs);
      }
      if (lanes.isEmpty() || lanes.stream().anyMatch(n -> n < 1)) {
        throw new IllegalArgumentException("--lanes: expected lane counts >= 1, got " + lanes);
      }
      if (!(seconds > 0)) {
        throw new IllegalArgumentException("--seconds: expected > 0, got " + seconds);
      }
      if (repeats < 1 || latencySteps < 1) {
        throw new IllegalArgumentException("--repeats and --latency-steps: expected >= 1, got "
            + repeats + " and " + latencySteps);
      }
      if (modes.isEmpty() || !MODES.containsAll(modes)) {
        throw new IllegalArgumentException("--modes: expected a comma-separated subset of "
            + String.join(", ", MODES) + ", got '" + String.join(",", modes) + "'");
      }
      if (stepsPerLane < 1) {
        throw new IllegalArgumentException("--steps-per-lane: expected >= 1, got "
            + stepsPerLane);
      }
      if (hidden.stream().anyMatch(h -> h < 1)) {
        throw new IllegalArgumentException("--hidden: expected sizes >= 1, got " + hidden);
      }
      if (requestsPerCollect < 0) {
        throw new IllegalArgumentException("--requests-per-collect: expected >= 0 (0: "
            + "automatic), got " + requestsPerCollect);
      }
      if (out == null) {
        throw new IllegalArgumentException("--out: expected a file, got none");
      }
    }
  }

  private BridgeBench() {}

  /** Runs the bench: prints a row per env and lane count, then writes {@code o.out()}. */
  public static void run(Options o, PrintStream out) throws Exception {
    String python = WorkerLauncher.defaultPython();
    // The Python side (raw baseline and worker alike) runs on CPUs of its own, away from the
    // server, so the scheduler cannot move it between cores mid-round-trip or put it beside
    // the server's threads; both figures of a ratio get the same CPUs.
    String cpus = o.pythonCpus();
    boolean serverSide = o.modes().contains("server");
    boolean shmSide = o.modes().contains("shm");
    boolean workerSide = o.modes().contains("worker");
    boolean aheadSide = o.modes().contains("ahead");
    List<Map<String, Object>> rows = new ArrayList<>();
    int requestsPerCollect = 0;
    out.printf(Locale.ROOT, "%-16s %5s %11s %11s %7s %7s %7s %11s %7s %7s %7s %11s %7s %6s "
        + "%11s %7s%n", "env", "lanes", "raw st/s", "server st/s", "srv/raw", "p50 us", "p99 us",
        "shm st/s", "shm/raw", "p50 us", "p99 us", "worker st/s", "wrk/raw", "w.env",
        "ahead st/s", "ahd/raw");
    for (String env : o.envs()) {
      for (int n : o.lanes()) {
        // Raw and the bridge modes alternate `repeats` times and the medians are reported; each
        // bridge figure is divided by the mean of the raw windows just before and after it,
        // which cancels the machine's drift.
        List<Double> raws = new ArrayList<>();
        Series server = new Series(o.repeats());
        Series shm = new Series(o.repeats());
        Series worker = new Series(o.repeats());
        Series ahead = new Series(o.repeats());
        // One raw process and one worker per mode live for the whole row, each built and
        // warmed up once; their windows then alternate seconds apart.
        try (RawBaseline raw = RawBaseline.start(python, env, n, cpus);
            ServerSideBench serverBench = serverSide ? new ServerSideBench(env, n, cpus, false)
                : null;
            ServerSideBench shmBench = shmSide ? new ServerSideBench(env, n, cpus, true) : null;
            WorkerSideBench workerBench = workerSide ? new WorkerSideBench(env, n, o.hidden(),
                o.stepsPerLane(), o.requestsPerCollect(), false, cpus) : null;
            WorkerSideBench aheadBench = aheadSide ? new WorkerSideBench(env, n, o.hidden(),
                o.stepsPerLane(), o.requestsPerCollect(), true, cpus) : null) {
          double[] before = {raw.stepsPerSecond(o.seconds())};
          raws.add(before[0]);
          // one bridge window, then a raw one; the ratio is over the raw windows around it
          java.util.function.BiConsumer<Series, double[]> record = (series, window) -> {
            try {
              double after = raw.stepsPerSecond(o.seconds());
              raws.add(after);
              series.add(window, (before[0] + after) / 2);
              before[0] = after;
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          };
          for (int r = 0; r < o.repeats(); r++) {
            if (serverBench != null) {
              record.accept(server, serverBench.measure(o.seconds(), o.latencySteps(), server, r));
            }
            if (shmBench != null) {
              record.accept(shm, shmBench.measure(o.seconds(), o.latencySteps(), shm, r));
            }
            if (workerBench != null) {
              record.accept(worker, workerBench.measure(o.seconds()));
              requestsPerCollect = workerBench.requestsPerCollect();
            }
            if (aheadBench != null) {
              record.accept(ahead, aheadBench.measure(o.seconds()));
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
          server.putRoundTrips("bridge_steps_per_sec", "", row, samples);
        }
        if (shmSide) {
          shm.putRoundTrips("shm_steps_per_sec", "shm_", row, samples);
        }
        if (workerSide) {
          worker.put("worker", row, samples);
        }
        if (aheadSide) {
          ahead.put("ahead", row, samples);
        }
        row.put("samples", samples);
        rows.add(row);
        out.printf(Locale.ROOT, "%-16s %5d %11.0f %11s %7s %7s %7s %11s %7s %7s %7s %11s %7s "
            + "%6s %11s %7s%n",
            env, n, median(rawSamples), cell(serverSide, median(server.steps), "%.0f"),
            cell(serverSide, median(server.ratios), "%.3f"),
            cell(serverSide, median(server.p50s), "%.0f"),
            cell(serverSide, median(server.p99s), "%.0f"),
            cell(shmSide, median(shm.steps), "%.0f"), cell(shmSide, median(shm.ratios), "%.3f"),
            cell(shmSide, median(shm.p50s), "%.0f"), cell(shmSide, median(shm.p99s), "%.0f"),
            cell(workerSide, median(worker.steps), "%.0f"),
            cell(workerSide, median(worker.ratios), "%.3f"),
            cell(workerSide, median(worker.envShares), "%.2f"),
            cell(aheadSide, median(ahead.steps), "%.0f"),
            cell(aheadSide, median(ahead.ratios), "%.3f"));
        out.flush();
      }
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("when", Instant.now().toString());
    doc.put("cores", Runtime.getRuntime().availableProcessors());
    doc.put("java", System.getProperty("java.version"));
    doc.put("seconds_per_measurement", o.seconds());
    doc.put("repeats", o.repeats());
    doc.put("statistic", "median over the repeats; one raw process and one worker per mode "
        + "live for the whole row, their windows alternate, and each bridge window is divided "
        + "by the mean of the raw windows just before and after it");
    doc.put("python_cpus", cpus == null ? "any" : cpus);
    doc.put("modes", o.modes());
    doc.put("server_mode", "server-side inference: Java linear policy, one Python worker, "
        + "SAME_STEP, one round trip per vector step over the gRPC stream, info omitted (the "
        + "worker steps its lanes one by one)");
    doc.put("shm_mode", "the server mode with resets and steps through shared memory "
        + "(capability shm_steps: a /dev/shm region, the same messages, sequence counters, "
        + "spinning then backing off on both sides)");
    doc.put("worker_mode", "worker-side inference: the worker samples with numpy from a Java "
        + (o.hidden().isEmpty() ? "linear" : "MLP " + o.hidden() + " tanh")
        + " policy's parameters (observation normalizer on, theta changed and resent every "
        + "chunk as in training), " + o.stepsPerLane() + " steps per lane per chunk; the "
        + "worker steps each lane's env itself "
        + "(its default --collect-loop lanes: SyncVectorEnv's SAME_STEP semantics without its "
        + "info dicts); Java rebuilds the chain and computes ln pi; worker_env_share / "
        + "worker_policy_share: fractions of the wall time the worker spent stepping the env / "
        + "sampling and recording");
    doc.put("ahead_mode", "the worker mode with collect-ahead (train --collect-ahead): each "
        + "collect submits the next chunk under the new theta before waiting for the one "
        + "submitted by the previous collect, so the worker never waits for this side; "
        + "batches are one update stale (off-chain, ratio-corrected in training)");
    doc.put("steps_per_lane", o.stepsPerLane());
    doc.put("requests_per_collect", requestsPerCollect);
    doc.put("hidden", o.hidden());
    doc.put("baseline", "gymnasium.vector.SyncVectorEnv in one Python process, actions "
        + "pre-sampled (env stepping alone)");
    doc.put("results", rows);
    Gson gson = new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
        .create();
    if (o.out().getParent() != null) {
      Files.createDirectories(o.out().getParent());
    }
    Files.writeString(o.out(), gson.toJson(doc) + "\n");
    out.println("wrote " + o.out());
  }

  /**
   * One bridge mode's windows in a row: steps/s, ratio to raw, the worker's time shares, and
   * for the server-side modes the round trip's p50 and p99 per repeat (in µs).
   */
  private static final class Series {
    final double[] steps;
    final double[] ratios;
    final double[] envShares;
    final double[] policyShares;
    final double[] p50s;
    final double[] p99s;
    private int size;

    Series(int repeats) {
      steps = new double[repeats];
      ratios = new double[repeats];
      envShares = new double[repeats];
      policyShares = new double[repeats];
      p50s = new double[repeats];
      p99s = new double[repeats];
    }

    /** window: steps/s and the two shares (NaN where the mode has none). */
    void add(double[] window, double rawAround) {
      steps[size] = window[0];
      ratios[size] = window[0] / rawAround;
      envShares[size] = window[1];
      policyShares[size] = window[2];
      size++;
    }

    /** A server-side mode's figures, under its keys (the server mode's predate the prefix). */
    void putRoundTrips(String stepsKey, String prefix, Map<String, Object> row,
        Map<String, Object> samples) {
      row.put(stepsKey, median(steps));
      row.put(prefix + "ratio", median(ratios));
      row.put(prefix + "round_trip_p50_us", median(p50s));
      row.put(prefix + "round_trip_p99_us", median(p99s));
      samples.put(stepsKey, steps);
      samples.put(prefix + "ratio", ratios);
      samples.put(prefix + "round_trip_p50_us", p50s);
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

  /**
   * Server-side inference on one local worker: a Java linear policy picks every action; the
   * resets and steps take the gRPC stream or, with {@code sharedMemory}, the shared-memory
   * region (refused when the worker does not accept one).
   */
  private static final class ServerSideBench implements AutoCloseable {
    private final EnvSource src;
    private final PolicyDriver driver;

    ServerSideBench(String env, int lanes, String cpus, boolean sharedMemory) throws Exception {
      src = EnvSource.open("python", env, lanes, null, Duration.ofSeconds(60), cpus);
      try {
        RemoteVectorEnv remote = (RemoteVectorEnv) src.env;
        remote.setSharedMemorySteps(sharedMemory);
        driver = new PolicyDriver(remote, 0);  // its reset makes (or not) the offer
        String want = sharedMemory ? "shm" : "grpc";
        if (!remote.transport().equals(want)) {
          throw new IllegalStateException("--modes " + (sharedMemory ? "shm" : "server")
              + ": expected resets and steps over " + want + ", got " + remote.transport()
              + " (shared memory " + remote.sharedMemoryOutcome() + ")");
        }
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

    /**
     * One window of {@code seconds}, then {@code latencySteps} vector steps timed one by one
     * into {@code series}' p50 and p99 of repeat {@code r}; returns the window for
     * {@link Series#add}.
     */
    double[] measure(double seconds, int latencySteps, Series series, int r) {
      double steps = stepsPerSecond(seconds);
      long[] lat = new long[latencySteps];
      driver.run(latencySteps, lat);
      series.p50s[r] = PolicyDriver.quantileMicros(lat, latencySteps, 0.5);
      series.p99s[r] = PolicyDriver.quantileMicros(lat, latencySteps, 0.99);
      return new double[] {steps, Double.NaN, Double.NaN};
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
  public static String defaultPythonCpu() {
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

  private static String cell(boolean measured, double value, String format) {
    return measured ? String.format(Locale.ROOT, format, value) : "-";
  }

  /** The median of the values (the mean of the middle two for an even count). */
  static double median(double[] values) {
    double[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    int m = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }
}
