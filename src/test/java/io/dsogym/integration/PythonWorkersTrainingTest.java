package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import io.dsogym.cli.Main;
import io.dsogym.launch.WorkerLauncher;
import io.dsogym.train.MetricsLog;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dsogym train --num-workers 2} from real Gymnasium CartPole-v1 in two Python worker
 * processes, local or remote: the run is solved with both workers collecting each batch, and a
 * worker SIGKILLed mid-run loses only its own chunk of the batch.
 */
class PythonWorkersTrainingTest {
  @TempDir
  Path dir;

  private static String text(ByteArrayOutputStream bytes) {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private JsonObject summary() throws IOException {
    return new Gson().fromJson(Files.readString(dir.resolve("summary.json")), JsonObject.class);
  }

  private static CompletableFuture<Integer> train(String[] args, PrintStream out) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return Main.run(args, out, out);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
  }

  @Test
  void cartPoleFromTwoLocalPythonWorkersIsSolved() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int code = Main.run(new String[] {"train", "--env", "CartPole-v1", "--source", "python",
        "--num-workers", "2", "--seed", "0", "--out", dir.toString()}, out, out);
    String console = text(bytes);
    assertEquals(0, code, console);
    assertTrue(console.contains("2 workers (4+4 lanes), batch quorum 1.0, worker-side "
        + "inference"), console);
    JsonObject summary = summary();
    assertEquals(2, summary.get("workers").getAsInt(), summary.toString());
    assertTrue(!summary.get("steps_to_threshold").isJsonNull()
        && summary.get("steps_to_threshold").getAsLong() <= 50_000, summary.toString());
    assertTrue(summary.get("eval_mean_return").getAsDouble() >= 475, summary.toString());
  }

  @Test
  void aKilledWorkerOfTwoLosesOnlyItsChunkAndIsReplaced() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    CompletableFuture<Integer> run = train(new String[] {"train", "--env", "CartPole-v1",
        "--source", "python", "--num-workers", "2", "--max-steps", "12288", "--num-envs", "4",
        "--steps-per-lane", "64", "--eval-every", "100000", "--eval-episodes", "2", "--out",
        dir.toString()}, out);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!text(bytes).contains("steps 1,024/") && System.nanoTime() < deadline
        && !run.isDone()) {
      Thread.sleep(10);
    }
    List<ProcessHandle> workers = ProcessHandle.current().descendants()
        .filter(p -> p.info().commandLine().orElse("").contains("dsogym.worker"))
        .filter(p -> !p.info().commandLine().orElse("").contains("local-eval")).toList();
    assertEquals(2, workers.size(), "two local training workers: " + text(bytes));
    workers.get(1).destroyForcibly();

    assertEquals(0, run.get(120, TimeUnit.SECONDS), text(bytes));
    String console = text(bytes);
    assertTrue(console.contains("the other workers' chunks are kept: starting a new local "
        + "Python worker"), console);
    assertTrue(console.contains("new lanes connected for worker"), console);
    assertFalse(console.contains("the batch in progress is dropped"), console);
    JsonObject summary = summary();
    assertEquals(1, summary.get("workers_lost").getAsInt(), summary.toString());
    // every batch is 256 steps but the one that lost the killed worker's 2 lanes x 64 steps
    List<double[]> rows = MetricsLog.read(dir.resolve("metrics.csv"));
    int steps = MetricsLog.COLUMNS.indexOf("env_steps");
    int halves = 0;
    for (int i = 0; i < rows.size(); i++) {
      double batch = rows.get(i)[steps] - (i == 0 ? 0 : rows.get(i - 1)[steps]);
      assertTrue(batch == 256 || batch == 128, "batch " + (i + 1) + ": " + batch + " steps");
      halves += batch == 128 ? 1 : 0;
    }
    assertEquals(1, halves, "the batch of the loss kept the other worker's chunk");
    assertEquals(12288 + 128, summary.get("env_steps").getAsLong());
  }

  @Test
  void twoRemoteWorkersConnectingFromOutsideTrainTogether() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    CompletableFuture<Integer> run = train(new String[] {"train", "--env", "CartPole-v1",
        "--source", "python", "--workers", "remote", "--port", Integer.toString(port),
        "--num-workers", "2", "--max-steps", "2048", "--eval-every", "100000",
        "--eval-episodes", "2", "--out", dir.toString()}, out);
    awaitListening(port, run);
    try (WorkerLauncher launcher = new WorkerLauncher(WorkerLauncher.defaultPython())) {
      // as dsogym.ray.launch_workers starts them: num-envs / num-workers lanes each
      for (int w = 0; w < 2; w++) {
        launcher.start("127.0.0.1:" + port, "CartPole-v1", 4, null, "remote-" + w);
      }
      // the evaluation lanes of a remote run come from the next worker to connect
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!text(bytes).contains("[train] CartPole-v1 from python")
          && System.nanoTime() < deadline && !run.isDone()) {
        Thread.sleep(10);
      }
      launcher.start("127.0.0.1:" + port, "CartPole-v1", 2, null, "remote-eval");
      assertEquals(0, run.get(120, TimeUnit.SECONDS), text(bytes));
    }
    String console = text(bytes);
    assertTrue(console.contains("2 workers (4+4 lanes)"), console);
    JsonObject summary = summary();
    assertEquals(2, summary.get("workers").getAsInt(), summary.toString());
    assertTrue(summary.get("env_steps").getAsLong() >= 2048, summary.toString());
  }

  private static void awaitListening(int port, CompletableFuture<Integer> run)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < deadline && !run.isDone()) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        Thread.sleep(50);
      }
    }
    throw new AssertionError("train did not listen on port " + port);
  }
}
