package io.dsogym.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shrunken {@code experiment cloning} (1,024 labels): in both settings the expert holds the
 * pole, DSO is evaluated after every batch and BC on the doubling grid, and labels to
 * threshold is the first grid count from which every later grid evaluation stays at 475. The full run's figures
 * (seeds 1-5) are in docs/results.md.
 */
class CloningExperimentTest {
  @TempDir Path dir;

  @Test
  @SuppressWarnings("unchecked")
  void everyMethodIsJudgedOnTheSameGridInBothSettings() throws Exception {
    CloningExperiment.Budget budget = new CloningExperiment.Budget(1_024, 2, 16, 32, 32);
    Map<String, Object> r = new CloningExperiment().run(1, dir,
        new PrintStream(new ByteArrayOutputStream()), budget);
    assertEquals(500.0, (Double) r.get("expert_mean_return"));
    assertArrayEquals(new long[] {32, 64, 128, 256, 512, 1024}, budget.grid());
    Map<String, Map<String, Map<String, Object>>> settings =
        (Map<String, Map<String, Map<String, Object>>>) r.get("settings");
    assertEquals(List.of("state", "state_and_previous_action"),
        List.copyOf(settings.keySet()));
    for (Map.Entry<String, Map<String, Map<String, Object>>> s : settings.entrySet()) {
      Map<String, Map<String, Object>> methods = s.getValue();
      assertEquals(List.of("dso", "dso_without_score_term", "bc", "bc_whole_episodes"),
          List.copyOf(methods.keySet()));
      for (Map.Entry<String, Map<String, Object>> m : methods.entrySet()) {
        String what = s.getKey() + " " + m.getKey();
        List<Map<String, Object>> curve = (List<Map<String, Object>>) m.getValue().get("curve");
        assertEquals(m.getKey().startsWith("dso") ? 32 : 6, curve.size(), what);
        assertEquals(1024L, curve.get(curve.size() - 1).get("labels"), what);
        assertEquals(keptOnGrid(curve, budget.grid()), m.getValue().get("labels_to_threshold"),
            what);
      }
    }
    // the headline is the setting with the previous action; its figures are that setting's
    Map<String, Map<String, Object>> headline = settings.get("state_and_previous_action");
    assertEquals("state_and_previous_action", r.get("headline_setting"));
    assertEquals(headline.get("dso").get("labels_to_threshold"), r.get(
        "dso_labels_to_threshold"));
    assertEquals(headline.get("bc").get("labels_to_threshold"), r.get("bc_labels_to_threshold"));
    assertEquals(headline.get("dso").get("curve"), r.get("dso_curve"));
    // 1,024 i.i.d. expert labels fit the expert's linear rule when the learner sees the state
    assertTrue((Double) settings.get("state").get("bc").get("final_return")
        >= CloningExperiment.THRESHOLD);
    assertTrue(Files.size(dir.resolve("cloning.png")) > 1000);
    assertTrue(Files.exists(dir.resolve("state_and_previous_action/dso/metrics.csv")));
  }

  /** The first grid count from which every later grid evaluation is at threshold, or null. */
  private static Long keptOnGrid(List<Map<String, Object>> curve, long[] grid) {
    Long from = null;
    for (int i = curve.size() - 1; i >= 0; i--) {
      long labels = (Long) curve.get(i).get("labels");
      if (java.util.Arrays.binarySearch(grid, labels) < 0) {
        continue;
      }
      if ((Double) curve.get(i).get("mean_return") < CloningExperiment.THRESHOLD) {
        break;
      }
      from = labels;
    }
    return from;
  }
}
