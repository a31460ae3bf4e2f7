package io.dsogym.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.launch.EnvSource;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training the Java-native envs that have exact solvers, with the presets, reads its result from
 * the exact solver: summary.json's exact_objective_initial, exact_objective and
 * optimal_objective, and metrics.csv's exact_objective column. Shrunken versions of the
 * acceptance runs (docs/training.md, "Training known chains"): a Discrete-observation MDP
 * (one-hot features) with the natural gradient and PCO, the average-cost setting on a random
 * ergodic MDP, and the LQR.
 */
class ExactReportTrainingTest {
  @TempDir Path dir;

  private double gapClosed(String envId, String kwargs, String... options) throws Exception {
    Map<String, Object> s = run(envId, kwargs, options);
    double j0 = (Double) s.get("exact_objective_initial");
    double j = (Double) s.get("exact_objective");
    double best = (Double) s.get("optimal_objective");
    return (j0 - j) / (j0 - best);
  }

  private Map<String, Object> run(String envId, String kwargs, String... options)
      throws Exception {
    Map<String, String> o = new LinkedHashMap<>();
    o.put("--source", "java");
    o.put("--seed", "1");
    o.put("--env-kwargs", kwargs);
    for (int i = 0; i < options.length; i += 2) {
      o.put(options[i], options[i + 1]);
    }
    TrainConfig config = TrainPresets.config(envId, o);
    Path out = Files.createTempDirectory(dir, "run");
    Map<String, Object> s;
    try (EnvSource lanes = EnvSource.open("java", envId, config.numEnvs(), kwargs,
        Duration.ZERO)) {
      s = new Trainer(config, lanes, lanes.env, out, null,
          new PrintStream(new ByteArrayOutputStream())).run();
    }
    assertNotNull(s.get("exact_objective"), s.toString());
    double j0 = (Double) s.get("exact_objective_initial");
    double j = (Double) s.get("exact_objective");
    double best = (Double) s.get("optimal_objective");
    assertTrue(best <= j + 1e-9, "J* " + best + " must bound the trained J " + j);
    List<String> lines = Files.readAllLines(out.resolve("metrics.csv"));
    assertEquals("exact_objective", lines.get(0).substring(lines.get(0).lastIndexOf(',') + 1));
    return s;
  }

  @Test
  void tabularChainWithOneHotObservationsClosesTheGap() throws Exception {
    assertTrue(gapClosed("TabularChain-v0", "{}", "--algo", "natural", "--max-steps", "30000")
        >= 0.95);
    assertTrue(gapClosed("TabularChain-v0", "{}", "--algo", "pco", "--max-steps", "30000")
        >= 0.95);
  }

  @Test
  void averageCostSettingOnARandomErgodicMdp() throws Exception {
    double closed = gapClosed("TabularChain-v0",
        "{\"random\": {\"states\": 8, \"actions\": 3, \"seed\": 1}}", "--algo", "gradient",
        "--setting", "average", "--max-steps", "60000");
    assertTrue(closed >= 0.8, "closed " + closed);
  }

  @Test
  void lqrWithALinearGaussianPolicy() throws Exception {
    double closed = gapClosed("LQR-v0", "{}", "--algo", "natural", "--max-steps", "60000");
    assertTrue(closed >= 0.95, "closed " + closed);
  }

  /**
   * θ in the dynamics (docs/math.md §10): every optimizer trains the policy jointly with the
   * gridworld's transition logits. J* is then the optimum over both (every supported next
   * state can be made certain, so the slip disappears), and each run ends below the best that
   * any policy alone can reach on the given dynamics, which only the system part can explain.
   */
  @Test
  void everyOptimizerTrainsThePolicyWithTheDynamics() throws Exception {
    TrainConfig preset = TrainPresets.config("TabularChain-v0", Map.of());
    double policyOnlyOptimum = io.dsogym.oracle.TabularMdp.of(
        new io.dsogym.envs.tabular.TabularChainEnv()).optimalDiscountedObjective(preset.gamma());
    for (String algo : TrainConfig.ALGORITHMS) {
      Map<String, Object> s = run("TabularChain-v0", "{}", "--algo", algo,
          "--system-params", "transition_logits", "--max-steps",
          algo.equals("gradient") ? "40000" : "30000", "--lr",
          algo.equals("gradient") ? "0.03" : preset.learningRate() + "");
      double j0 = (Double) s.get("exact_objective_initial");
      double j = (Double) s.get("exact_objective");
      double best = (Double) s.get("optimal_objective");
      assertTrue(best < policyOnlyOptimum - 0.5, algo + ": J* over the system " + best
          + " must be below the policy-only " + policyOnlyOptimum);
      assertTrue(j < policyOnlyOptimum, algo + ": J " + j + " must beat any policy alone ("
          + policyOnlyOptimum + ")");
      assertTrue((j0 - j) / (j0 - best) >= 0.9, algo + ": closed " + (j0 - j) / (j0 - best));
      assertEquals(4 * 16 * 16, ((Map<?, ?>) s.get("system_params")).size(), algo);
    }
  }
}
