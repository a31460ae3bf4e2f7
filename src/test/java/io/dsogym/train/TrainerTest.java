package io.dsogym.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.Env;
import io.dsogym.envs.EnvRegistry;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.env.VectorEnv;
import io.dsogym.dso.PolicyRegularizer;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policy;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training loop on Java-native CartPole: outputs, resume, lost workers, and learning. */
class TrainerTest {
  @TempDir
  Path dir;

  private final ByteArrayOutputStream console = new ByteArrayOutputStream();

  private static TrainConfig config(long maxSteps, Map<String, String> extra) {
    Map<String, String> o = new java.util.HashMap<>(Map.of("--source", "java", "--num-envs", "4",
        "--steps-per-lane", "128", "--eval-every", "1024", "--eval-episodes", "4"));
    o.put("--max-steps", Long.toString(maxSteps));
    o.putAll(extra);
    return TrainPresets.config("CartPole-v1", o);
  }

  /** Java CartPole lanes; counts how often lanes were opened, optionally failing once. */
  private static final class Lanes implements LaneSource {
    final List<String> opened = new ArrayList<>();
    int failTrainAfterSteps = -1;
    int failEvalAfterSteps = -1;
    /** While closed, evaluation lanes hold every step (an evaluation that takes its time). */
    CountDownLatch evalGate;
    String envId = "CartPole-v1";

    @Override
    public synchronized VectorEnv open(int numEnvs, String purpose) {
      opened.add(purpose);
      List<Env> envs = new ArrayList<>();
      for (int i = 0; i < numEnvs; i++) {
        envs.add(EnvRegistry.defaults().make(envId, Map.of()));
      }
      VectorEnv env = new SyncVectorEnv(envs, AutoresetMode.SAME_STEP);
      if (purpose.equals("train") && failTrainAfterSteps >= 0) {
        int failAt = failTrainAfterSteps;
        failTrainAfterSteps = -1;
        return new FailingLanes(env, failAt);
      }
      if (purpose.equals("eval") && failEvalAfterSteps >= 0) {
        int failAt = failEvalAfterSteps;
        failEvalAfterSteps = -1;
        return new FailingLanes(env, failAt);
      }
      if (purpose.equals("eval") && evalGate != null) {
        return new FailingLanes(env, Integer.MAX_VALUE, evalGate);
      }
      return env;
    }

    @Override
    public String replacementNote() {
      return "reopening test lanes";
    }
  }

  private Trainer trainer(TrainConfig c, Lanes lanes, Checkpoint.State resumed) throws Exception {
    return new Trainer(c, lanes, lanes.open(c.numEnvs(), "train"), dir, resumed,
        new PrintStream(console, true, StandardCharsets.UTF_8));
  }

  @Test
  void runWritesMetricsCheckpointSummaryAndPlot() throws Exception {
    Map<String, Object> summary = trainer(config(2048, Map.of()), new Lanes(), null).run();
    for (String key : List.of("env_id", "algo", "seed", "env_steps", "wall_seconds",
        "eval_mean_return", "eval_std_return", "steps_to_threshold")) {
      assertTrue(summary.containsKey(key), "summary has " + key);
    }
    assertEquals(2048L, summary.get("env_steps"));
    List<double[]> rows = MetricsLog.read(dir.resolve("metrics.csv"));
    assertEquals(4, rows.size());
    assertTrue(Double.isNaN(rows.get(0)[MetricsLog.COLUMNS.indexOf("eval_mean_return")]));
    assertTrue(!Double.isNaN(rows.get(1)[MetricsLog.COLUMNS.indexOf("eval_mean_return")]));
    assertTrue(Files.size(dir.resolve("learning_curve.png")) > 1000);
    assertTrue(Files.exists(dir.resolve("summary.json")));
    assertTrue(console.toString(StandardCharsets.UTF_8).contains("[train] steps 2,048/2,048"));
  }

  @Test
  void theBestEvaluatedPolicyIsKeptBesideTheLast() throws Exception {
    // CartPole from θ = 0 with evaluations every batch: the evaluations go up and down
    Map<String, Object> summary = trainer(config(8192, Map.of("--eval-every", "512",
        "--eval-episodes", "4")), new Lanes(), null).run();
    List<double[]> rows = MetricsLog.read(dir.resolve("metrics.csv"));
    int col = MetricsLog.COLUMNS.indexOf("eval_mean_return");
    int bestRow = 0;
    for (int i = 0; i < rows.size(); i++) {
      if (rows.get(i)[col] > rows.get(bestRow)[col]) {
        bestRow = i;  // the first of equal bests, as the trainer keeps it
      }
    }
    double best = rows.get(bestRow)[col];
    long bestSteps = (long) rows.get(bestRow)[MetricsLog.COLUMNS.indexOf("env_steps")];
    assertTrue(bestRow < rows.size() - 1, "this run's last evaluation is below its best, so the "
        + "two policies differ");
    assertEquals(best, (double) summary.get("best_eval_mean_return"), 0.0);
    assertEquals(bestSteps, summary.get("best_eval_env_steps"));
    Checkpoint.State kept = Checkpoint.read(dir.resolve(Checkpoint.BEST_DIR));
    assertEquals(bestSteps, kept.envSteps);
    assertEquals(best, kept.lastEvalMean, 0.0);
    // the kept θ is the one evaluated then: evaluating it again with that seed gives that mean
    Lanes lanes = new Lanes();
    VectorEnv evalLanes = lanes.open(4, "eval");
    Policy policy = io.dsogym.policy.Policies.forEnv(evalLanes.spec(), kept.config.policyHidden(),
        io.dsogym.policy.PolicySpec.Activation.TANH, kept.config.initLogStd());
    ObservationNormalizer normalizer = new ObservationNormalizer(policy.obsDim(),
        kept.config.normalizeObservations(), 10.0);
    normalizer.set(kept.obsMean, kept.obsVar, kept.obsCount);
    double again = Evaluator.mean(Evaluator.evaluate(evalLanes, policy, kept.theta,
        normalizer, 4, kept.config.seed() + 1_000_000L + kept.iteration * 1_000L));
    assertEquals(best, again, 1e-9);
  }

  @Test
  void resumedRunStartsFromTheCheckpointedStateAndKeepsItsMetrics() throws Exception {
    trainer(config(1024, Map.of()), new Lanes(), null).run();
    Checkpoint.State saved = Checkpoint.read(dir);
    assertEquals(1024, saved.envSteps);
    assertEquals(2, saved.iteration);
    double[] thetaAtCheckpoint = saved.theta.clone();

    TrainConfig longer = TrainPresets.withMaxSteps(saved.config, 2048);
    Trainer resumed = trainer(longer, new Lanes(), Checkpoint.read(dir));
    assertArrayEquals(thetaAtCheckpoint, Checkpoint.read(dir).theta, 0.0);
    resumed.run();
    Checkpoint.State after = Checkpoint.read(dir);
    assertEquals(2048, after.envSteps);
    assertEquals(4, after.iteration);
    assertTrue(after.adamSteps == 4, "the optimizer's step count continues: " + after.adamSteps);
    List<double[]> rows = MetricsLog.read(dir.resolve("metrics.csv"));
    assertEquals(List.of(1.0, 2.0, 3.0, 4.0), rows.stream().map(r -> r[0]).toList());
  }

  @Test
  void valueFitOverlappingTheNextCollectionChangesNoFigure() throws Exception {
    // evaluations every other batch, so best/ and the checkpoints are written while V̂ is fit
    TrainConfig c = config(4096, Map.of("--eval-every", "1024"));
    Map<String, Checkpoint.State> finals = new java.util.HashMap<>();
    Map<String, List<double[]>> metrics = new java.util.HashMap<>();
    for (String mode : List.of("overlapped", "sequential")) {
      Path out = dir.resolve(mode);
      Lanes lanes = new Lanes();
      Trainer t = new Trainer(c, lanes, lanes.open(c.numEnvs(), "train"), out, null,
          new PrintStream(console, true, StandardCharsets.UTF_8));
      if (mode.equals("sequential")) {
        t.fitValueSequentially();
      }
      t.run();
      finals.put(mode, Checkpoint.read(out));
      finals.put(mode + "/best", Checkpoint.read(out.resolve(Checkpoint.BEST_DIR)));
      metrics.put(mode, MetricsLog.read(out.resolve("metrics.csv")));
    }
    List<double[]> overlapped = metrics.get("overlapped");
    List<double[]> sequential = metrics.get("sequential");
    assertEquals(sequential.size(), overlapped.size());
    int loss = MetricsLog.COLUMNS.indexOf("value_loss");
    for (int r = 0; r < overlapped.size(); r++) {
      assertTrue(Double.isFinite(overlapped.get(r)[loss]), "row " + r + " has V̂'s loss");
      for (int k = 0; k < MetricsLog.COLUMNS.size(); k++) {
        String column = MetricsLog.COLUMNS.get(k);
        if (!column.equals("wall_seconds") && !column.equals("steps_per_second")) {
          assertEquals(sequential.get(r)[k], overlapped.get(r)[k], 0.0, column + ", row " + r);
        }
      }
    }
    for (String which : List.of("", "/best")) {
      Checkpoint.State a = finals.get("overlapped" + which);
      Checkpoint.State b = finals.get("sequential" + which);
      assertEquals(b.envSteps, a.envSteps, which);
      assertArrayEquals(b.theta, a.theta, 0.0, which);
      assertArrayEquals(b.valueTheta, a.valueTheta, 0.0, "V̂ " + which);
      assertArrayEquals(b.valueAdamV, a.valueAdamV, 0.0, "V̂'s Adam " + which);
      assertEquals(b.valueScale, a.valueScale, 0.0, which);
    }
  }

  @Test
  void lostWorkerDropsTheBatchInProgressAndTrainingGoesOnWithNewLanes() throws Exception {
    Lanes lanes = new Lanes();
    lanes.failTrainAfterSteps = 200;  // dies in the second batch (128 steps per lane)
    Map<String, Object> summary = trainer(config(2048, Map.of()), lanes, null).run();
    assertEquals(2048L, summary.get("env_steps"));
    assertEquals(2, lanes.opened.stream().filter(p -> p.equals("train")).count());
    String out = console.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("lost the env worker") && out.contains("w-test disconnected"), out);
    assertTrue(out.contains("reopening test lanes"), out);
  }

  @Test
  void evaluationsRunBehindTrainingAndAStopWritesTheirRowsBeforeTheCheckpoint()
      throws Exception {
    Lanes lanes = new Lanes();
    lanes.evalGate = new CountDownLatch(1);  // no evaluation takes a step until released
    Trainer t = trainer(config(8192, Map.of("--eval-every", "512")), lanes, null);
    CompletableFuture<Map<String, Object>> run = CompletableFuture.supplyAsync(() -> {
      try {
        return t.run();
      } catch (Exception e) {
        throw new CompletionException(e);
      }
    });
    // iterations 1 and 2 finish with their evaluations pending; iteration 3's evaluation is
    // one too many, so the learner waits for the first before reporting iteration 3
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!console.toString(StandardCharsets.UTF_8).contains("steps 1,024/")
        && !run.isDone() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    String before = console.toString(StandardCharsets.UTF_8);
    assertTrue(before.contains("steps 1,024/8,192") && before.contains("eval - |"), before);
    assertEquals(1, Files.readAllLines(dir.resolve("metrics.csv")).size(),
        "the rows wait for their evaluations: " + Files.readString(dir.resolve("metrics.csv")));
    t.requestStop("test");
    lanes.evalGate.countDown();
    run.get(60, TimeUnit.SECONDS);
    assertTrue(t.stopped());
    List<double[]> rows = MetricsLog.read(dir.resolve("metrics.csv"));
    // three iterations: the learner held at the third until the evaluations went on
    assertEquals(List.of(1.0, 2.0, 3.0), rows.stream().map(r -> r[0]).toList());
    int col = MetricsLog.COLUMNS.indexOf("eval_mean_return");
    assertTrue(rows.stream().noneMatch(r -> Double.isNaN(r[col])), "every evaluation reported");
    Checkpoint.State saved = Checkpoint.read(dir);
    assertEquals(3, saved.iteration, "the checkpoint follows the rows written");
    assertEquals(rows.get(2)[col], saved.lastEvalMean, 1e-4 * Math.abs(saved.lastEvalMean));

    Trainer resumed = trainer(TrainPresets.withMaxSteps(saved.config, 2560), new Lanes(), saved);
    resumed.run();
    assertEquals(List.of(1.0, 2.0, 3.0, 4.0, 5.0), MetricsLog.read(dir.resolve("metrics.csv"))
        .stream().map(r -> r[0]).toList());
  }

  @Test
  void lostEvaluationWorkerIsReplacedAndItsEvaluationRunAgain() throws Exception {
    Lanes lanes = new Lanes();
    lanes.failEvalAfterSteps = 30;  // dies within the first evaluation
    Map<String, Object> summary = trainer(config(2048, Map.of()), lanes, null).run();
    assertEquals(2, lanes.opened.stream().filter(p -> p.equals("eval")).count());
    String out = console.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("lost the evaluation worker (")
        && out.contains("w-test disconnected"), out);
    int col = MetricsLog.COLUMNS.indexOf("eval_mean_return");
    List<double[]> rows = MetricsLog.read(dir.resolve("metrics.csv"));
    assertEquals(2, rows.stream().filter(r -> !Double.isNaN(r[col])).count(),
        "both evaluations (1,024 and 2,048 steps) reported");
    assertEquals(rows.get(rows.size() - 1)[col], (double) summary.get("eval_mean_return"),
        1e-4 * Math.abs((double) summary.get("eval_mean_return")));
  }

  @Test
  void cartPoleFromJavaReachesTheRewardThresholdWithinFiftyThousandSteps() throws Exception {
    TrainConfig c = TrainPresets.config("CartPole-v1", Map.of("--source", "java", "--seed", "0"));
    Map<String, Object> summary = trainer(c, new Lanes(), null).run();
    assertNotNull(summary.get("steps_to_threshold"), "evaluation reached 475 within 50,000 "
        + "steps; summary " + summary);
  }

  @Test
  void collectAheadIsRefusedForServerSideInference() {
    TrainConfig c = TrainPresets.config("CartPole-v1", Map.of("--source", "java", "--seed", "0",
        "--collect-ahead", "true"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> trainer(c, new Lanes(), null));
    assertTrue(e.getMessage().contains("--collect-ahead: expected worker-side inference"),
        e.getMessage());
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "--algo {0}")
  @org.junit.jupiter.params.provider.ValueSource(strings = {"pco", "natural", "chain-iteration"})
  void surrogateOptimizersSolveCartPoleFromJava(String algo) throws Exception {
    TrainConfig c = TrainPresets.config("CartPole-v1", Map.of("--source", "java", "--seed", "0",
        "--algo", algo, "--max-steps", "20480"));
    Map<String, Object> summary = trainer(c, new Lanes(), null).run();
    assertEquals(algo, summary.get("algo"));
    assertNotNull(summary.get("steps_to_threshold"), "evaluation reached 475 within 20,480 "
        + "steps; summary " + summary);
    List<double[]> rows = MetricsLog.read(dir.resolve("metrics.csv"));
    double kl = rows.get(0)[MetricsLog.COLUMNS.indexOf("kl")];
    double change = rows.get(0)[MetricsLog.COLUMNS.indexOf("surrogate_change")];
    assertTrue(kl > 0 && kl < 0.5, "the first update moved the chain a little: KL " + kl);
    assertTrue(change < 0, "the first update lowered the surrogate: " + change);
  }

  @Test
  void chainIterationResumesWithItsDamping() throws Exception {
    trainer(config(1024, Map.of("--algo", "chain-iteration")), new Lanes(), null).run();
    Checkpoint.State saved = Checkpoint.read(dir);
    assertNotNull(saved.improverState);
    assertEquals(1, saved.improverState.length);
    TrainConfig longer = TrainPresets.withMaxSteps(saved.config, 1536);
    Trainer resumed = trainer(longer, new Lanes(), saved);
    assertEquals("chain-iteration", saved.config.algo());
    resumed.run();
    assertEquals(1536, Checkpoint.read(dir).envSteps);
  }

  @Test
  void entropyAndKlChainCostsTrainAndUnknownAlgorithmsAreRejected() throws Exception {
    Map<String, Object> summary = trainer(config(1024, Map.of("--algo", "pco",
        "--entropy-coef", "0.01", "--kl-coef", "0.5")), new Lanes(), null).run();
    assertEquals(1024L, summary.get("env_steps"));
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> config(1024, Map.of("--algo", "ppo")));
    assertTrue(e.getMessage().contains("--algo") && e.getMessage().contains("ppo")
        && e.getMessage().contains("chain-iteration"), e.getMessage());
  }

  @Test
  void boundCostPullsAMeanBeyondTheActionBoxBackWhereClippedSamplesCarryNoSignal()
      throws Exception {
    // Pendulum's torque is clipped to ±2 at the env. With μ ≈ 3 and σ = e^-2 = 0.14 every
    // sample clips to 2, so the policy gradient says nothing about μ: only the bound cost
    // moves it.
    Lanes lanes = new Lanes();
    lanes.envId = "Pendulum-v1";
    Map<String, String> o = new java.util.HashMap<>(Map.of("--source", "java", "--algo", "pco",
        "--num-envs", "4", "--steps-per-lane", "64", "--hidden", "8", "--init-log-std", "-2",
        "--lr", "0.01", "--anneal-lr", "false", "--eval-every", "100000",
        "--eval-episodes", "1"));
    o.put("--minibatches", "4");  // the test's own settings, not the preset's
    o.put("--value-epochs", "4");
    o.put("--max-steps", "256");
    trainer(TrainPresets.config("Pendulum-v1", o), lanes, null).run();
    Checkpoint.State start = Checkpoint.read(dir);
    start.theta[start.theta.length - 2] += 3;  // the output bias; log σ is last
    Policy policy = io.dsogym.policy.Policies.forEnv(lanes.open(1, "probe").spec(),
        List.of(8), io.dsogym.policy.PolicySpec.Activation.TANH, -2);
    double[] before = probeMeans(policy, start.theta);
    assertTrue(min(before) > 2.9, "the means start beyond the bound: min " + min(before));
    double[] withCost = null;
    double[] without = null;
    for (String coef : List.of("0", "10")) {
      o.put("--max-steps", "2304");
      o.put("--bound-coef", coef);
      Checkpoint.write(dir, start);
      trainer(TrainPresets.config("Pendulum-v1", o), lanes, Checkpoint.read(dir)).run();
      double[] after = probeMeans(policy, Checkpoint.read(dir).theta);
      if (coef.equals("0")) {
        without = after;
      } else {
        withCost = after;
      }
    }
    // seeded Java lanes make both runs deterministic; the margins are several times the
    // drift of the run without the cost (0.01)
    assertTrue(avg(withCost) < avg(before) - 0.25, "with the bound cost the means come back "
        + "toward the bound: " + avg(before) + " -> " + avg(withCost));
    assertTrue(Math.abs(avg(without) - avg(before)) < 0.05, "without it they stay beyond: "
        + avg(before) + " -> " + avg(without));
    lanes.envId = "CartPole-v1";
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> trainer(config(1024, Map.of("--bound-coef", "1")), lanes, null));
    assertTrue(e.getMessage().contains("--bound-coef: expected 0 for an env without a Box "
        + "action space"), e.getMessage());
  }

  /** μ at 64 fixed normalized observations in [-2, 2]³. */
  private static double[] probeMeans(Policy policy, double[] theta) {
    java.util.SplittableRandom rng = new java.util.SplittableRandom(3);
    double[] means = new double[64];
    double[] params = new double[2];
    for (int i = 0; i < means.length; i++) {
      double[] z = {4 * rng.nextDouble() - 2, 4 * rng.nextDouble() - 2, 4 * rng.nextDouble() - 2};
      policy.distributionParams(theta, z, 0, params);
      means[i] = params[0];
    }
    return means;
  }

  private static double avg(double[] v) {
    return java.util.Arrays.stream(v).average().orElseThrow();
  }

  private static double min(double[] v) {
    return java.util.Arrays.stream(v).min().orElseThrow();
  }

  private static double max(double[] v) {
    return java.util.Arrays.stream(v).max().orElseThrow();
  }

  /** Mean KL(π ‖ π_ref) over raw states, each policy seeing them through its own statistics. */
  private static double meanKlTo(Checkpoint.State ref, Checkpoint.State run, Policy policy,
      double[] rawStates, int n) {
    int d = policy.obsDim();
    double[] zRef = new double[rawStates.length];
    double[] z = new double[rawStates.length];
    ObservationNormalizer refNorm = new ObservationNormalizer(d, true, 10.0);
    refNorm.set(ref.obsMean, ref.obsVar, ref.obsCount);
    ObservationNormalizer norm = new ObservationNormalizer(d, true, 10.0);
    norm.set(run.obsMean, run.obsVar, run.obsCount);
    for (int i = 0; i < n; i++) {
      refNorm.normalize(rawStates, i * d, zRef, i * d);
      norm.normalize(rawStates, i * d, z, i * d);
    }
    PolicyRegularizer kl = new PolicyRegularizer(policy, z, n, 0, 1, ref.theta, zRef);
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += kl.cost(run.theta, i);
    }
    return sum / n;
  }

  @Test
  void klReferenceKeepsTheNewPolicyNearTheReferenceRun() throws Exception {
    Path refDir = dir.resolve("reference");
    new Trainer(config(4096, Map.of("--seed", "0")), new Lanes(), new Lanes().open(4, "train"),
        refDir, null, new PrintStream(console, true, StandardCharsets.UTF_8)).run();
    Checkpoint.State ref = Checkpoint.read(refDir);
    Map<Boolean, Checkpoint.State> after = new java.util.HashMap<>();
    Policy policy = null;
    for (boolean regularized : new boolean[] {false, true}) {
      Map<String, String> o = new java.util.HashMap<>(Map.of("--seed", "7", "--algo", "pco"));
      if (regularized) {
        o.putAll(Map.of("--kl-coef", "20", "--kl-reference", refDir.toString()));
      }
      Path out = dir.resolve("run-" + regularized);
      Trainer t = new Trainer(config(2048, o), new Lanes(), new Lanes().open(4, "train"), out,
          null, new PrintStream(console, true, StandardCharsets.UTF_8));
      t.run();
      policy = t.policy();
      after.put(regularized, Checkpoint.read(out));
    }
    java.util.SplittableRandom rng = new java.util.SplittableRandom(3);
    int n = 256;
    double[] states = new double[n * 4];
    for (int i = 0; i < states.length; i++) {
      states[i] = rng.nextDouble(-0.2, 0.2);
    }
    double free = meanKlTo(ref, after.get(false), policy, states, n);
    double pulled = meanKlTo(ref, after.get(true), policy, states, n);
    System.out.printf("[train-kl] mean KL(π ‖ π_ref) after 2,048 pco steps: %.4g with "
        + "--kl-coef 20 --kl-reference, %.4g without%n", pulled, free);
    assertTrue(pulled < free / 3, "KL to the reference: " + pulled + " with --kl-reference, "
        + free + " without");
  }

  @Test
  void klReferenceOfAnotherShapeIsRejectedNamingTheOption() throws Exception {
    Path refDir = dir.resolve("pendulum");
    Checkpoint.State other = new Checkpoint.State();
    other.config = TrainPresets.config("Pendulum-v1", Map.of("--source", "java"));
    other.theta = new double[5];
    Checkpoint.write(refDir, other);
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> trainer(config(1024, Map.of("--kl-coef", "1",
            "--kl-reference", refDir.toString())), new Lanes(), null));
    assertTrue(e.getMessage().contains("--kl-reference") && e.getMessage().contains("5")
        && e.getMessage().contains("10 parameters"), e.getMessage());
  }
}
