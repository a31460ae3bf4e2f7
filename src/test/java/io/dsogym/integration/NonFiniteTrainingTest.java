package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.cli.Main;
import io.dsogym.train.Checkpoint;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code dsogym train} on a real local Python worker whose env returns a NaN reward or an
 * infinite observation at its 6th step: the batch is refused naming the worker, the lane and
 * the field; by default training stops with a checkpoint of the state before that batch (θ
 * finite), with {@code --on-non-finite drop} it drops the batch and finishes its budget.
 */
class NonFiniteTrainingTest {
  private static final String ENV = "dsogym.testing_envs:Faulty-v0";

  @TempDir
  Path dir;

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  @ParameterizedTest(name = "--inference {0}, {1}")
  @CsvSource({"worker, nan_reward_at_step, 'reward', NaN",
      "server, nan_reward_at_step, 'reward', NaN",
      "worker, inf_observation_at_step, 'next observation[0]', Infinity"})
  void aNonFiniteValueStopsTrainingNamingWorkerLaneAndFieldWithAFiniteCheckpoint(
      String inference, String kwarg, String field, String value) throws Exception {
    // 2 lanes x 4 steps: 8 env steps a batch; the 6th step is row 1 of the second batch
    int code = Main.run(args(inference, kwarg, "stop", 64), out, out);
    String console = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(1, code, console);
    assertTrue(console.matches("(?s).*dsogym: refused the batch: worker w-1 \\(local-"
        + "[^)]*Faulty-v0 x 2\\) returned a non-finite " + java.util.regex.Pattern.quote(field)
        + ": lane 0, step 1: expected a finite number, got " + value + ".*"), console);
    assertTrue(console.contains("training stopped at 8 steps"), console);
    Checkpoint.State state = Checkpoint.read(dir);
    assertEquals(8, state.envSteps, "the checkpoint is that of the batch before");
    assertTrue(Arrays.stream(state.theta).allMatch(Double::isFinite),
        "θ is finite: " + Arrays.toString(state.theta));
  }

  @ParameterizedTest(name = "--collect-ahead {0}")
  @ValueSource(strings = {"false", "true"})
  void withDropTheBatchAndTheEvaluationAreDroppedAndTrainingFinishes(String collectAhead)
      throws Exception {
    String[] args = args("worker", "nan_reward_at_step", "drop", 32);
    args = java.util.stream.Stream.concat(Arrays.stream(args),
        java.util.stream.Stream.of("--collect-ahead", collectAhead)).toArray(String[]::new);
    int code = Main.run(args, out, out);
    String console = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, console);
    assertTrue(console.contains("[train] dropped the batch: worker w-1 (local-"), console);
    assertTrue(console.contains("returned a non-finite reward: lane 0, step 1"), console);
    // the evaluation lanes reach their 6th step too: that evaluation reports nothing
    assertTrue(console.contains("[train] dropped the evaluation: worker w-2 (local-eval"),
        console);
    Checkpoint.State state = Checkpoint.read(dir);
    assertEquals(32, state.envSteps, "the budget is met by the batches kept");
    assertEquals(4, state.iteration, "the dropped batch is not an iteration");
    assertTrue(Arrays.stream(state.theta).allMatch(Double::isFinite),
        "θ is finite: " + Arrays.toString(state.theta));
  }

  private String[] args(String inference, String kwarg, String onNonFinite, int maxSteps) {
    return new String[] {"train", "--env", ENV, "--source", "python", "--env-kwargs",
        "{\"" + kwarg + "\": 6}", "--num-envs", "2", "--steps-per-lane", "4",
        "--max-steps", Integer.toString(maxSteps), "--inference", inference,
        "--eval-every", "100000", "--eval-episodes", "1", "--on-non-finite", onNonFinite,
        "--out", dir.toString()};
  }
}
