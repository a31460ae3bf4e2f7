package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.cli.Main;
import io.dsogym.launch.WorkerLauncher;
import io.dsogym.train.Checkpoint;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A real {@code dsogym train} process sent SIGTERM or SIGINT mid-run: it finishes the iteration
 * in progress, writes the checkpoint of exactly the steps it reported, closes its workers and
 * exits with the signal's status; {@code --resume} then continues from those steps.
 */
class TrainSignalTest {
  private static final Pattern PROGRESS = Pattern.compile("\\[train] steps ([\\d,]+)/");

  @TempDir
  Path dir;

  @ParameterizedTest(name = "SIG{0}, --source {1}")
  @CsvSource({"TERM, java, 143", "INT, java, 130", "TERM, python, 143"})
  void aSignalLeavesTheCheckpointOfTheLastIterationAndResumeContinuesIt(String signal,
      String source, int status) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process train = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "train", "--env", "CartPole-v1", "--source", source,
        "--max-steps", "100000000", "--num-envs", "2", "--steps-per-lane", "32",
        "--eval-every", "100000000", "--out", dir.toString())
        .start();
    // stdout is the trainer's console; stderr (workers' logs too) is read apart, so that no
    // line of one interleaves with the other
    List<String> lines = new CopyOnWriteArrayList<>();
    List<String> errors = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> reader = readLines(train.getInputStream(), lines);
    CompletableFuture<Void> errorReader = readLines(train.getErrorStream(), errors);
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (lines.stream().filter(l -> l.startsWith("[train] steps")).count() < 3
          && train.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(train.isAlive(), "training runs: " + lines);
      new ProcessBuilder("kill", "-" + signal, Long.toString(train.pid())).start().waitFor();
      assertTrue(train.waitFor(60, TimeUnit.SECONDS), "exited after SIG" + signal + ": " + lines);
    } finally {
      train.destroyForcibly();
    }
    reader.get(10, TimeUnit.SECONDS);
    errorReader.get(10, TimeUnit.SECONDS);
    String console = String.join("\n", lines) + "\nstderr:\n" + String.join("\n", errors);
    assertEquals(status, train.exitValue(), console);
    assertTrue(console.contains("[train] stopped (SIGINT or SIGTERM) at "), console);
    long reported = lastReportedSteps(lines);
    long saved = Checkpoint.read(dir).envSteps;
    assertEquals(reported, saved, "the checkpoint holds the last iteration reported: " + console);
    assertTrue(!Files.exists(dir.resolve("summary.json")), "an unfinished run has no summary");
    assertTrue(train.descendants().noneMatch(ProcessHandle::isAlive), "its workers are gone");

    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    long budget = saved + 128;
    int code = Main.run(new String[] {"train", "--resume", dir.toString(), "--max-steps",
        Long.toString(budget)}, out, out);
    String resumed = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, resumed);
    assertTrue(resumed.contains(String.format("resumed at %d steps", saved)), resumed);
    assertEquals(budget, Checkpoint.read(dir).envSteps, resumed);
    assertTrue(Files.exists(dir.resolve("summary.json")));
  }

  @org.junit.jupiter.api.Test
  void sigtermWhileWaitingForRemoteWorkersEndsTheWaitAtOnce() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process train = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "train", "--env", "CartPole-v1", "--workers", "remote",
        "--port", "0", "--out", dir.toString()).start();
    List<String> lines = new CopyOnWriteArrayList<>();
    List<String> errors = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> reader = readLines(train.getInputStream(), lines);
    CompletableFuture<Void> errorReader = readLines(train.getErrorStream(), errors);
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (errors.stream().noneMatch(l -> l.contains("start a worker with"))
          && train.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(train.isAlive(), "waiting for workers: " + errors);
      new ProcessBuilder("kill", "-TERM", Long.toString(train.pid())).start().waitFor();
      // it would otherwise hold the JVM for the whole STOP_WAIT (60 s) in its shutdown hook
      assertTrue(train.waitFor(30, TimeUnit.SECONDS), "exited: " + lines + errors);
    } finally {
      train.destroyForcibly();
    }
    reader.get(10, TimeUnit.SECONDS);
    errorReader.get(10, TimeUnit.SECONDS);
    assertEquals(143, train.exitValue(), lines + "\n" + errors);
  }

  /**
   * Training on a remote worker, then waiting for another: a replacement for the training
   * worker, killed after a few iterations, or the evaluation's worker, which never comes.
   * SIGTERM ends that wait at once: the run stops as it does elsewhere, with the checkpoint of
   * the last iteration reported (before the fix it sat out the hook's 60 s and was halted with
   * neither message nor checkpoint).
   */
  @ParameterizedTest(name = "waiting for the {0} worker")
  @CsvSource({"replacement, 100000000", "evaluation, 64"})
  void sigtermWhileTrainingWaitsForAWorkerStopsWithACheckpoint(String waitingFor,
      String evalEvery) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process train = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "train", "--env", "CartPole-v1", "--source", "python",
        "--workers", "remote", "--port", "0", "--max-steps", "100000000", "--num-envs", "2",
        "--steps-per-lane", "32", "--eval-every", evalEvery, "--out", dir.toString())
        .start();
    List<String> lines = new CopyOnWriteArrayList<>();
    List<String> errors = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> reader = readLines(train.getInputStream(), lines);
    CompletableFuture<Void> errorReader = readLines(train.getErrorStream(), errors);
    WorkerLauncher launcher = new WorkerLauncher(WorkerLauncher.defaultPython());
    try {
      String listening = awaitLine(errors, "start a worker with", train);
      Matcher address = Pattern.compile("--server (\\S+)").matcher(listening);
      assertTrue(address.find(), listening);
      Process worker = launcher.start(address.group(1), "CartPole-v1", 2, null, "remote-test");
      // with an evaluation pending, training holds up after MAX_EVALUATIONS_IN_FLIGHT
      int iterations = waitingFor.equals("replacement") ? 3 : 1;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (lines.stream().filter(l -> l.startsWith("[train] steps")).count() < iterations
          && train.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(lines.stream().filter(l -> l.startsWith("[train] steps")).count()
          >= iterations, "training runs: " + lines + errors);
      if (waitingFor.equals("replacement")) {
        worker.destroyForcibly();
        awaitLine(lines, "[train] lost the env worker", train);
      }
      awaitLine(errors, "dsogym: waiting for a remote worker", train);
      new ProcessBuilder("kill", "-TERM", Long.toString(train.pid())).start().waitFor();
      assertTrue(train.waitFor(120, TimeUnit.SECONDS), "exited: " + lines + errors);
    } finally {
      train.destroyForcibly();
      launcher.close();
    }
    reader.get(10, TimeUnit.SECONDS);
    errorReader.get(10, TimeUnit.SECONDS);
    String console = String.join("\n", lines) + "\nstderr:\n" + String.join("\n", errors);
    assertEquals(143, train.exitValue(), console);
    assertTrue(console.contains("[train] stopped (SIGINT or SIGTERM) at "), console);
    long reported = lastReportedSteps(lines);
    assertTrue(reported > 0, console);
    assertEquals(reported, Checkpoint.read(dir).envSteps, "the checkpoint holds the last "
        + "iteration reported: " + console);
  }

  /** The first of {@code lines} containing {@code text}, waiting for it while {@code p} runs. */
  private static String awaitLine(List<String> lines, String text, Process p)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      for (String line : lines) {
        if (line.contains(text)) {
          return line;
        }
      }
      if (!p.isAlive()) {
        break;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("expected a line with '" + text + "', got: " + lines);
  }

  private static CompletableFuture<Void> readLines(java.io.InputStream in, List<String> into) {
    return CompletableFuture.runAsync(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in,
          StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          into.add(line);
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, task -> new Thread(task, "train-output").start());  // not the common pool: it may be 1 thread
  }

  private static long lastReportedSteps(List<String> lines) {
    long steps = -1;
    for (String line : lines) {
      Matcher m = PROGRESS.matcher(line);
      if (m.find()) {
        steps = Long.parseLong(m.group(1).replace(",", ""));
      }
    }
    return steps;
  }
}
