package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.dsogym.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dsogym bench} end to end on CartPole-v1 with real Python processes (the raw
 * baseline and the workers): the four modes produce one row whose figures are the medians of
 * interleaved windows. Figures are checked for shape and sense, never against a time.
 */
class BenchCommandTest {
  @TempDir
  Path dir;

  @Test
  void benchWritesInterleavedRawAndBridgeWindowsForEveryMode() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    Path json = dir.resolve("bench.json");
    int code = Main.run(new String[] {"bench", "--envs", "CartPole-v1", "--lanes", "2",
        "--seconds", "0.2", "--repeats", "3", "--latency-steps", "50", "--steps-per-lane", "16",
        "--out", json.toString()}, out, out);
    String console = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, console);
    assertTrue(console.contains("CartPole-v1"), console);

    JsonObject doc = new Gson().fromJson(Files.readString(json), JsonObject.class);
    assertEquals(3, doc.get("repeats").getAsInt());
    JsonArray results = doc.getAsJsonArray("results");
    assertEquals(1, results.size());
    JsonObject row = results.get(0).getAsJsonObject();
    assertEquals(2, row.get("lanes").getAsInt());
    JsonObject samples = row.getAsJsonObject("samples");
    // one raw window first, then one after every bridge window: 1 + 4 modes x 3 repeats
    assertEquals(13, samples.getAsJsonArray("raw_steps_per_sec").size());
    assertEquals(3, samples.getAsJsonArray("ratio").size());
    assertEquals(3, samples.getAsJsonArray("shm_ratio").size());
    assertEquals(3, samples.getAsJsonArray("worker_ratio").size());
    assertEquals(3, samples.getAsJsonArray("ahead_ratio").size());
    for (String key : new String[] {"raw_steps_per_sec", "bridge_steps_per_sec", "ratio",
        "round_trip_p50_us", "shm_steps_per_sec", "shm_ratio", "shm_round_trip_p50_us",
        "worker_steps_per_sec", "worker_ratio", "ahead_steps_per_sec", "ahead_ratio"}) {
      double v = row.get(key).getAsDouble();
      assertTrue(v > 0 && Double.isFinite(v), key + " = " + v);
    }
    assertTrue(row.get("round_trip_p99_us").getAsDouble()
        >= row.get("round_trip_p50_us").getAsDouble(), row.toString());
    assertTrue(row.get("shm_round_trip_p99_us").getAsDouble()
        >= row.get("shm_round_trip_p50_us").getAsDouble(), row.toString());
    double envShare = row.get("worker_env_share").getAsDouble();
    assertTrue(envShare > 0 && envShare < 1, "worker_env_share = " + envShare);
    // each ratio is its bridge window over the mean of the raw windows around it
    JsonArray raws = samples.getAsJsonArray("raw_steps_per_sec");
    double bridge0 = samples.getAsJsonArray("bridge_steps_per_sec").get(0).getAsDouble();
    double expected = bridge0 / ((raws.get(0).getAsDouble() + raws.get(1).getAsDouble()) / 2);
    assertEquals(expected, samples.getAsJsonArray("ratio").get(0).getAsDouble(), 1e-12);
  }

  @Test
  void trainBenchMeasuresATrainingRunAgainstRawSteppingOfThePresetsLanes() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    Path json = dir.resolve("train.json");
    int code = Main.run(new String[] {"bench", "--train", "--envs", "CartPole-v1",
        "--train-steps", "3000", "--seconds", "0.3", "--workers", "1,2", "--out",
        json.toString()}, out, out);
    String console = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, console);
    assertTrue(console.contains("CartPole-v1"), console);

    JsonObject doc = new Gson().fromJson(Files.readString(json), JsonObject.class);
    assertTrue(doc.has("date") && doc.getAsJsonObject("machine").get("cores").getAsInt() > 0,
        doc.toString());
    assertEquals(1, doc.get("repeats").getAsInt());
    JsonArray rows = doc.getAsJsonArray("train");
    assertEquals(2, rows.size(), "a row per worker count");
    JsonObject two = rows.get(1).getAsJsonObject();
    assertEquals(2, two.get("workers").getAsInt());
    assertEquals(8, two.get("num_envs").getAsInt(), "the preset's lanes, 4 per worker");
    assertEquals(3072, two.get("train_steps").getAsLong());
    assertTrue(two.get("train_steps_per_s_without_eval").getAsDouble() > 0, two.toString());
    JsonObject row = rows.get(0).getAsJsonObject();
    assertEquals(1, row.get("workers").getAsInt());
    assertEquals("CartPole-v1", row.get("env_id").getAsString());
    assertEquals("gradient", row.get("algo").getAsString());
    assertEquals(8, row.get("num_envs").getAsInt());  // CartPole's preset: 8 lanes x 64 steps
    // the budget is reached in whole batches of 512 steps
    assertEquals(3072, row.get("train_steps").getAsLong());
    assertEquals(0.5, row.get("target_ratio").getAsDouble());
    for (String key : new String[] {"train_steps_per_s", "train_steps_per_s_without_eval",
        "raw_steps_per_s", "ratio", "ratio_without_eval", "learner_cpu_us_per_step",
        "workers_cpu_us_per_step", "cpu_bound_ratio"}) {
      double v = row.get(key).getAsDouble();
      assertTrue(v > 0 && Double.isFinite(v), key + " = " + v);
    }
    // one repeat: raw, train, raw; the ratio is the run over the mean of the two raw windows
    JsonObject samples = row.getAsJsonObject("samples");
    JsonArray raws = samples.getAsJsonArray("raw_steps_per_s");
    assertEquals(2, raws.size());
    double rawAround = (raws.get(0).getAsDouble() + raws.get(1).getAsDouble()) / 2;
    assertEquals(rawAround, row.get("raw_steps_per_s").getAsDouble(), 1e-9 * rawAround);
    assertEquals(row.get("train_steps_per_s").getAsDouble() / rawAround,
        row.get("ratio").getAsDouble(), 1e-12);
    assertEquals(row.get("train_steps_per_s_without_eval").getAsDouble() / rawAround,
        row.get("ratio_without_eval").getAsDouble(), 1e-12);
    // the CPU bound: the cores over the CPU of a step at the raw rate
    double cpuPerStep = (row.get("learner_cpu_us_per_step").getAsDouble()
        + row.get("workers_cpu_us_per_step").getAsDouble()) / 1e6;
    assertEquals(Runtime.getRuntime().availableProcessors() / (cpuPerStep * rawAround),
        row.get("cpu_bound_ratio").getAsDouble(), 1e-9);
  }

  @Test
  void trainBenchOptionsAreCheckedBeforeAnyProcessStarts() {
    for (String[] bad : new String[][] {{"--train", "--lanes", "4"},
        {"--train", "--modes", "worker"}, {"--train", "--train-steps", "0"},
        {"--train", "--repeats", "0"}, {"--train-steps", "1000"},
        {"--train", "--workers", "0"}, {"--workers", "2"}}) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
      java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("bench",
          "--envs", "CartPole-v1", "--out", dir.resolve("train.json").toString()));
      args.addAll(java.util.List.of(bad));
      assertEquals(2, Main.run(args.toArray(String[]::new), out, out), args.toString());
      String console = bytes.toString(StandardCharsets.UTF_8);
      String named = bad[bad.length - 2];
      assertTrue(console.contains(named), named + ": " + console);
      assertFalse(Files.exists(dir.resolve("train.json")), console);
    }
  }

  @Test
  void badOptionsAreUsageErrorsBeforeAnyProcessStarts() {
    for (String[] bad : new String[][] {{"--modes", "server,bogus"}, {"--lanes", "0"},
        {"--lanes", "x"}, {"--hidden", "64,x"}, {"--repeats", "0"}, {"--seconds", "0"},
        {"--requests-per-collect", "-1"}, {"--modez", "server"}}) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
      String[] args = {"bench", "--envs", "CartPole-v1", "--out",
          dir.resolve("bench.json").toString(), bad[0], bad[1]};
      assertEquals(2, Main.run(args, out, out), String.join(" ", args));
      String console = bytes.toString(StandardCharsets.UTF_8);
      assertTrue(console.contains(bad[0].equals("--modez") ? "Did you mean: --modes?" : bad[0]),
          console);
      assertFalse(Files.exists(dir.resolve("bench.json")), console);
    }
  }
}
