package io.dsogym.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
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
 * {@code bench}: env-steps/s through the bridge (a local Python worker, actions chosen by a
 * Java linear policy on the server side) against raw gymnasium.vector.SyncVectorEnv stepping
 * the same env with the same lane count, measured one after the other in the same run, plus
 * the latency of each step round trip. Prints a table and writes JSON.
 */
final class BenchCommand implements Main.Command {
  @Override
  public String summary() {
    return "bench [--envs CartPole-v1,HalfCheetah-v5] [--lanes 1,16,64] [--seconds 5] "
        + "[--repeats 3] [--out bench-results/bench.json]: bridge vs raw SyncVectorEnv "
        + "throughput and latency (medians of interleaved repeats)";
  }

  @Override
  public int run(List<String> args, PrintStream out) throws Exception {
    Map<String, String> opts = Main.parseOptions(args,
        List.of("--envs", "--lanes", "--seconds", "--out", "--latency-steps", "--repeats"),
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
    Path outPath = Path.of(opts.getOrDefault("--out", "bench-results/bench.json"));
    String python = WorkerLauncher.defaultPython();

    List<Map<String, Object>> rows = new ArrayList<>();
    out.printf(Locale.ROOT, "%-16s %5s %14s %14s %7s %10s %10s%n", "env", "lanes",
        "raw steps/s", "bridge steps/s", "ratio", "p50 us", "p99 us");
    for (String env : envs) {
      for (int n : lanes) {
        // Raw and bridge alternate `repeats` times and the medians are reported: on a shared
        // 2-core machine single measurements move by 10-30%.
        double[] raws = new double[repeats];
        double[] bridges = new double[repeats];
        double[] ratios = new double[repeats];
        double[] p50s = new double[repeats];
        double[] p99s = new double[repeats];
        for (int r = 0; r < repeats; r++) {
          raws[r] = rawStepsPerSecond(python, env, n, seconds);
          try (EnvSource src = EnvSource.open("python", env, n, null, Duration.ofSeconds(60))) {
            PolicyDriver driver = new PolicyDriver(src.env, 0);
            driver.runFor(1.0);  // warm-up: JIT, caches, connection; same policy every repeat
            long before = driver.envSteps;
            long t0 = System.nanoTime();
            driver.runFor(seconds);
            bridges[r] = (driver.envSteps - before) / ((System.nanoTime() - t0) / 1e9);
            long[] lat = new long[latencySteps];
            driver.run(latencySteps, lat);
            p50s[r] = PolicyDriver.quantileMicros(lat, latencySteps, 0.5);
            p99s[r] = PolicyDriver.quantileMicros(lat, latencySteps, 0.99);
          }
          ratios[r] = bridges[r] / raws[r];
        }
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("env", env);
        row.put("lanes", n);
        row.put("raw_steps_per_sec", median(raws));
        row.put("bridge_steps_per_sec", median(bridges));
        row.put("ratio", median(ratios));
        row.put("round_trip_p50_us", median(p50s));
        row.put("round_trip_p99_us", median(p99s));
        row.put("samples", Map.of("raw_steps_per_sec", raws, "bridge_steps_per_sec", bridges,
            "ratio", ratios, "round_trip_p50_us", p50s));
        double raw = median(raws);
        rows.add(row);
        out.printf(Locale.ROOT, "%-16s %5d %14.0f %14.0f %7.3f %10.0f %10.0f%n", env, n, raw,
            (double) row.get("bridge_steps_per_sec"), (double) row.get("ratio"),
            (double) row.get("round_trip_p50_us"), (double) row.get("round_trip_p99_us"));
        out.flush();
      }
    }
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("when", Instant.now().toString());
    doc.put("cores", Runtime.getRuntime().availableProcessors());
    doc.put("java", System.getProperty("java.version"));
    doc.put("seconds_per_measurement", seconds);
    doc.put("repeats", repeats);
    doc.put("statistic", "median over the repeats; raw and bridge alternate");
    doc.put("mode", "server-side inference: Java linear policy, one Python worker, SAME_STEP");
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

  private static double median(double[] values) {
    double[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    int m = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  }

  /** Runs python -m dsogym.bench_raw and reads its JSON line. */
  private static double rawStepsPerSecond(String python, String env, int lanes, double seconds)
      throws Exception {
    Process p = new ProcessBuilder(python, "-m", "dsogym.bench_raw", "--env", env,
        "--num-envs", Integer.toString(lanes), "--seconds", Double.toString(seconds))
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
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
