package io.dsogym.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.Env;
import io.dsogym.env.EnvUnavailableException;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
import io.dsogym.env.VectorEnvWrapper;
import io.dsogym.envs.classic.CartPole;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training from several workers on Java-native CartPole lanes, each worker's chunk collected on
 * a thread of its own: learning and reproducibility, a straggler whose chunks join later batches,
 * a lost worker that loses only its chunk, and the options' validation.
 */
class MultiWorkerTrainingTest {
  @TempDir
  Path dir;

  private final ByteArrayOutputStream console = new ByteArrayOutputStream();

  private static TrainConfig config(Map<String, String> extra) {
    Map<String, String> o = new HashMap<>(Map.of("--source", "java", "--seed", "0"));
    o.putAll(extra);
    return TrainPresets.config(CartPole.ID, o);
  }

  /** Java CartPole lanes, counting how often training lanes were opened. */
  private static final class Lanes implements LaneSource {
    int trainOpened;

    @Override
    public VectorEnv open(int numEnvs, String purpose) {
      if (purpose.equals("train")) {
        trainOpened++;
      }
      return cartPoles(numEnvs);
    }

    @Override
    public String replacementNote() {
      return "reopening test lanes";
    }
  }

  private static VectorEnv cartPoles(int lanes) {
    List<Env> envs = new ArrayList<>();
    for (int i = 0; i < lanes; i++) {
      envs.add(new CartPole());
    }
    return new SyncVectorEnv(envs, AutoresetMode.SAME_STEP);
  }

  private Map<String, Object> run(TrainConfig c, List<VectorEnv> workers, Path out)
      throws Exception {
    return new Trainer(c, new Lanes(), workers, out, null,
        new PrintStream(console, true, StandardCharsets.UTF_8)).run();
  }

  private static List<VectorEnv> workers(TrainConfig c) {
    List<VectorEnv> out = new ArrayList<>();
    for (int w = 0; w < c.numWorkers(); w++) {
      out.add(cartPoles(c.lanesPerWorker()));
    }
    return out;
  }

  @Test
  void twoWorkersSolveCartPoleAndARunRepeatsExactly() throws Exception {
    TrainConfig c = config(Map.of("--num-workers", "2"));
    Map<String, Object> summary = run(c, workers(c), dir.resolve("a"));
    assertEquals(2, summary.get("workers"));
    assertEquals(0L, summary.get("chunks_late"));
    assertNotNull(summary.get("steps_to_threshold"), "evaluation reached 475 within 50,000 "
        + "steps; summary " + summary);
    assertTrue(console.toString(StandardCharsets.UTF_8).contains("2 workers (4+4 lanes)"));

    run(c, workers(c), dir.resolve("b"));
    assertArrayEquals(Checkpoint.read(dir.resolve("a")).theta,
        Checkpoint.read(dir.resolve("b")).theta, 0.0, "quorum 1: the same batches whatever "
            + "the threads' timing");
  }

  /**
   * CartPole lanes that step only with permits: the fast worker's lanes hand out one permit per
   * vector step, the slow worker's take {@code cost} per step, so the slow one runs at 1/cost
   * of the fast one's pace, whatever the machine's speed.
   */
  private static final class PacedLanes extends VectorEnvWrapper {
    final Semaphore permits;
    final int cost;  // 0: hands out a permit per step instead of taking any

    PacedLanes(int lanes, Semaphore permits, int cost) {
      super(cartPoles(lanes));
      this.permits = permits;
      this.cost = cost;
    }

    @Override
    public VectorStepResult step(Value actions) {
      if (cost == 0) {
        permits.release();
      } else {
        try {
          permits.acquire(cost);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new EnvUnavailableException(EnvUnavailableException.Reason.CANCELLED,
              "slow lanes closed", e);
        }
      }
      return inner.step(actions);
    }
  }

  @Test
  void aSlowWorkersChunksJoinLaterBatchesAndTheRunGoesOn() throws Exception {
    TrainConfig c = config(Map.of("--num-workers", "2", "--batch-quorum", "0.5",
        "--num-envs", "4", "--steps-per-lane", "32", "--max-steps", "2048",
        "--eval-every", "100000", "--eval-episodes", "2"));
    Semaphore permits = new Semaphore(0);
    Map<String, Object> summary = run(c, List.of(new PacedLanes(2, permits, 0),
        new PacedLanes(2, permits, 3)), dir);
    // the slow worker's chunk needs 3 of the fast one's: it is late in every batch it joins
    long late = (Long) summary.get("chunks_late");
    assertTrue(late >= 3, "late chunks: " + late + "; summary " + summary);
    assertTrue((Long) summary.get("env_steps") >= 2048, summary.toString());
    List<double[]> rows = MetricsLog.read(dir.resolve("metrics.csv"));
    int steps = MetricsLog.COLUMNS.indexOf("env_steps");
    long fastOnly = 0;
    long withLate = 0;
    for (int i = 0; i < rows.size(); i++) {
      double batch = rows.get(i)[steps] - (i == 0 ? 0 : rows.get(i - 1)[steps]);
      fastOnly += batch == 64 ? 1 : 0;  // the fast worker's 2 lanes x 32 steps
      withLate += batch > 64 ? 1 : 0;
    }
    assertTrue(fastOnly > 0 && withLate == late, "batches of the fast worker alone: "
        + fastOnly + ", with a late chunk: " + withLate);
  }

  @Test
  void aLostWorkerLosesOnlyItsChunkAndIsReplaced() throws Exception {
    TrainConfig c = config(Map.of("--num-workers", "2", "--num-envs", "4",
        "--steps-per-lane", "128", "--max-steps", "2048", "--eval-every", "100000",
        "--eval-episodes", "2"));
    Lanes lanes = new Lanes();
    Map<String, Object> summary = new Trainer(c, lanes, List.of(cartPoles(2),
        new FailingLanes(cartPoles(2), 200)), dir, null,
        new PrintStream(console, true, StandardCharsets.UTF_8)).run();
    String out = console.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("lost worker 2 of 2") && out.contains("w-test disconnected")
        && out.contains("the other workers' chunks are kept: reopening test lanes"), out);
    assertTrue(out.contains("new lanes connected for worker 2; continuing"), out);
    assertEquals(1, lanes.trainOpened);
    assertEquals(1L, summary.get("workers_lost"));
    List<double[]> rows = MetricsLog.read(dir.resolve("metrics.csv"));
    int steps = MetricsLog.COLUMNS.indexOf("env_steps");
    assertEquals(512.0, rows.get(0)[steps]);
    assertEquals(512.0 + 256, rows.get(1)[steps], "the second batch kept worker 1's half");
    assertEquals(2048L + 256, summary.get("env_steps"));
  }

  @Test
  void workerCountsAndQuorumsAreValidatedNamingTheOptions() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> config(Map.of("--num-workers", "3")));
    assertEquals("--num-envs: expected a multiple of --num-workers 3 (the lanes are split "
        + "evenly over the workers), got 8", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> config(Map.of("--num-workers",
        "0")));
    assertEquals("--num-workers: expected a positive worker count, got 0", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> config(Map.of("--batch-quorum",
        "1.5")));
    assertEquals("--batch-quorum: expected a fraction of the lanes, 0 < F <= 1, got 1.5",
        e.getMessage());
    TrainConfig two = config(Map.of("--num-workers", "2"));
    e = assertThrows(IllegalArgumentException.class, () -> new Trainer(two, new Lanes(),
        List.of(cartPoles(4)), dir, null, new PrintStream(console)));
    assertEquals("--num-workers: expected the lanes of 2 workers, got 1", e.getMessage());
    TrainConfig system = config(Map.of("--num-workers", "2", "--batch-quorum", "0.5",
        "--system-params", "gravity", "--env-kwargs", "{\"process_noise\": 0.05}"));
    List<VectorEnv> noisy = new ArrayList<>();
    for (int w = 0; w < 2; w++) {
      List<Env> envs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        envs.add(io.dsogym.envs.EnvRegistry.defaults().make(CartPole.ID,
            Map.of("process_noise", 0.05)));
      }
      noisy.add(new SyncVectorEnv(envs, AutoresetMode.SAME_STEP));
    }
    e = assertThrows(IllegalArgumentException.class, () -> new Trainer(system, new Lanes(),
        noisy, dir, null, new PrintStream(console)));
    assertTrue(e.getMessage().startsWith("--batch-quorum: expected 1 with --system-params"),
        e.getMessage());
  }
}
