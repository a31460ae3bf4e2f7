package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.cli.Main;
import io.dsogym.train.Checkpoint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dsogym train --source python} with its real local Python worker SIGKILLed in the
 * middle of training: the run says so, starts a new worker, and finishes its step budget.
 * The worker runs on the CPU {@code --worker-cpus} names. With collect-ahead too, where the
 * killed worker takes a submitted chunk with it.
 */
class TrainingWorkerKillTest {
  @TempDir
  Path dir;

  @ParameterizedTest(name = "--collect-ahead {0}")
  @ValueSource(strings = {"false", "true"})
  void trainingGoesOnWithANewWorkerAfterTheWorkerIsKilled(String collectAhead)
      throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    String cpu = Integer.toString(Runtime.getRuntime().availableProcessors() - 1);
    String[] args = {"train", "--env", "CartPole-v1", "--source", "python", "--max-steps",
        "12288", "--num-envs", "4", "--steps-per-lane", "64", "--eval-every", "100000",
        "--eval-episodes", "2", "--out", dir.toString(), "--worker-cpus", cpu,
        "--collect-ahead", collectAhead};
    CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> {
      try {
        return Main.run(args, out, out);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!text(bytes).contains("steps 1,024/") && System.nanoTime() < deadline && !run.isDone()) {
      Thread.sleep(10);
    }
    List<ProcessHandle> workers = ProcessHandle.current().descendants()
        .filter(p -> p.info().commandLine().orElse("").contains("dsogym.worker"))
        .filter(p -> !p.info().commandLine().orElse("").contains("local-eval")).toList();
    assertEquals(1, workers.size(), "one local training worker: " + text(bytes));
    assertEquals(cpu, allowedCpus(workers.get(0)), "--worker-cpus pins the worker");
    workers.get(0).destroyForcibly();

    assertEquals(0, run.get(120, TimeUnit.SECONDS), text(bytes));
    String console = text(bytes);
    assertTrue(console.contains("lost the env worker"), console);
    assertTrue(console.contains("starting a new local Python worker"), console);
    assertTrue(console.contains("new lanes connected; continuing"), console);
    assertEquals(12288, Checkpoint.read(dir).envSteps);
  }

  /** The process's Cpus_allowed_list from /proc (Linux, where the tests run). */
  private static String allowedCpus(ProcessHandle p) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + p.pid() + "/status"))) {
      if (line.startsWith("Cpus_allowed_list:")) {
        return line.substring(line.indexOf(':') + 1).trim();
      }
    }
    throw new IllegalStateException("no Cpus_allowed_list for process " + p.pid());
  }

  private static String text(ByteArrayOutputStream bytes) {
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
