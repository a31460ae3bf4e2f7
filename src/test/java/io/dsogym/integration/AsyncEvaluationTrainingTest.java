package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import io.dsogym.cli.Main;
import io.dsogym.train.Checkpoint;
import io.dsogym.train.MetricsLog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dsogym train --source python} on Gymnasium's CartPole-v1 with evaluations on their
 * own thread and local worker ({@code --eval-async true}, the default) against the same run
 * evaluating in line: metrics.csv, summary.json and best/ hold the same figures (timing
 * aside). And with the evaluation worker SIGKILLed mid-run, a new one takes over.
 */
class AsyncEvaluationTrainingTest {
  private static final Set<String> TIMING = Set.of("wall_seconds", "steps_per_second");

  @TempDir
  Path dir;

  private static String[] train(Path out, String async, long maxSteps) {
    return new String[] {"train", "--env", "CartPole-v1", "--source", "python", "--seed", "3",
        "--max-steps", Long.toString(maxSteps), "--num-envs", "4", "--steps-per-lane", "64",
        "--eval-every", "512", "--eval-episodes", "6", "--out", out.toString(),
        "--eval-async", async};
  }

  @Test
  void asyncAndInlineEvaluationWriteTheSameFigures() throws Exception {
    for (String async : List.of("true", "false")) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
      assertEquals(0, Main.run(train(dir.resolve(async), async, 10_240), out, out),
          bytes.toString(StandardCharsets.UTF_8));
    }
    Path async = dir.resolve("true");
    Path inline = dir.resolve("false");
    List<String> asyncRows = withoutTiming(async);
    assertEquals(withoutTiming(inline), asyncRows);
    int col = MetricsLog.COLUMNS.indexOf("eval_mean_return");
    long evaluated = MetricsLog.read(async.resolve("metrics.csv")).stream()
        .filter(r -> !Double.isNaN(r[col])).count();
    assertEquals(20, evaluated, "an evaluation every 512 of 10,240 steps: " + asyncRows);

    JsonObject a = summary(async);
    JsonObject b = summary(inline);
    a.remove("wall_seconds");
    b.remove("wall_seconds");
    assertEquals(b, a);
    for (Path p : List.of(Path.of(""), Path.of(Checkpoint.BEST_DIR))) {
      Checkpoint.State x = Checkpoint.read(async.resolve(p));
      Checkpoint.State y = Checkpoint.read(inline.resolve(p));
      assertEquals(y.iteration, x.iteration, p.toString());
      assertArrayEquals(y.theta, x.theta, 0.0, p.toString());
      assertArrayEquals(y.obsMean, x.obsMean, 0.0, p.toString());
      assertEquals(y.bestEvalMean, x.bestEvalMean, 0.0, p.toString());
    }
    assertEquals(a.get("best_eval_env_steps").getAsLong(),
        Checkpoint.read(async.resolve(Checkpoint.BEST_DIR)).envSteps);
  }

  @Test
  void aKilledEvaluationWorkerIsReplacedWhileTrainingGoesOn() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> {
      try {
        return Main.run(train(dir, "true", 20_480), out, out);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    List<ProcessHandle> evalWorkers = List.of();
    while (evalWorkers.isEmpty() && System.nanoTime() < deadline && !run.isDone()) {
      Thread.sleep(10);
      evalWorkers = ProcessHandle.current().descendants()
          .filter(p -> p.info().commandLine().orElse("").contains("local-eval")).toList();
    }
    assertEquals(1, evalWorkers.size(), "one evaluation worker: " + text(bytes));
    // let it connect and evaluate, then kill it
    while (!text(bytes).matches("(?s).*eval \\d.*") && System.nanoTime() < deadline
        && !run.isDone()) {
      Thread.sleep(10);
    }
    evalWorkers.get(0).destroyForcibly();

    assertEquals(0, run.get(120, TimeUnit.SECONDS), text(bytes));
    String console = text(bytes);
    assertTrue(console.contains("lost the evaluation worker"), console);
    List<double[]> rows = MetricsLog.read(dir.resolve("metrics.csv"));
    List<Double> iterations = new ArrayList<>();
    rows.forEach(r -> iterations.add(r[0]));
    assertEquals(80, rows.size(), "rows in order, none lost: " + iterations);
    for (int i = 0; i < rows.size(); i++) {
      assertEquals(i + 1, rows.get(i)[0], 0.0);
    }
    int col = MetricsLog.COLUMNS.indexOf("eval_mean_return");
    assertEquals(40, rows.stream().filter(r -> !Double.isNaN(r[col])).count(),
        "the lost evaluation ran again on the new worker");
  }

  private static List<String> withoutTiming(Path run) throws Exception {
    List<String> lines = Files.readAllLines(run.resolve("metrics.csv"));
    List<String> header = List.of(lines.get(0).split(","));
    List<String> out = new ArrayList<>();
    for (String line : lines) {
      String[] cells = line.split(",", -1);
      StringBuilder kept = new StringBuilder();
      for (int i = 0; i < cells.length; i++) {
        if (!TIMING.contains(header.get(i))) {
          kept.append(cells[i]).append(',');
        }
      }
      out.add(kept.toString());
    }
    return out;
  }

  private static JsonObject summary(Path run) throws Exception {
    return new Gson().fromJson(Files.readString(run.resolve("summary.json")), JsonObject.class);
  }

  private static String text(ByteArrayOutputStream bytes) {
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
