package io.dsogym.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.Env;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.env.VectorEnv;
import io.dsogym.envs.EnvRegistry;
import io.dsogym.wire.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

  private static LaneSource javaLanes(String envId, String kwargsJson) {
    return new LaneSource() {
      @Override
      public VectorEnv open(int numEnvs, String purpose) {
        Map<String, Object> kwargs = Json.parseObject(kwargsJson, "kwargs");
        List<Env> envs = new ArrayList<>();
        for (int i = 0; i < numEnvs; i++) {
          envs.add(EnvRegistry.defaults().make(envId, kwargs));
        }
        return new SyncVectorEnv(envs, AutoresetMode.SAME_STEP);
      }

      @Override
      public String replacementNote() {
        return "reopening Java lanes";
      }
    };
  }

  private double gapClosed(String envId, String kwargs, String... options) throws Exception {
    Map<String, String> o = new LinkedHashMap<>();
    o.put("--source", "java");
    o.put("--seed", "1");
    o.put("--env-kwargs", kwargs);
    for (int i = 0; i < options.length; i += 2) {
      o.put(options[i], options[i + 1]);
    }
    TrainConfig config = TrainPresets.config(envId, o);
    LaneSource lanes = javaLanes(envId, kwargs);
    Path out = Files.createTempDirectory(dir, "run");
    Map<String, Object> s = new Trainer(config, lanes, lanes.open(config.numEnvs(), "train"),
        out, null, new PrintStream(new ByteArrayOutputStream())).run();
    assertNotNull(s.get("exact_objective"), s.toString());
    double j0 = (Double) s.get("exact_objective_initial");
    double j = (Double) s.get("exact_objective");
    double best = (Double) s.get("optimal_objective");
    assertTrue(best <= j + 1e-9, "J* " + best + " must bound the trained J " + j);
    List<String> lines = Files.readAllLines(out.resolve("metrics.csv"));
    assertEquals("exact_objective", lines.get(0).substring(lines.get(0).lastIndexOf(',') + 1));
    return (j0 - j) / (j0 - best);
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
}
