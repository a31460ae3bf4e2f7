package io.dsogym.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code experiment lmdp} on a budget small enough for CI: the layout of result.json and
 * curves.csv, the figure, and that every method closes most of the gap to J* on both problems.
 */
class LmdpExperimentTest {
  @TempDir Path dir;

  @Test
  void aShrunkenRunWritesItsResultsAndEveryMethodClosesTheGap() throws Exception {
    LmdpExperiment.Budget budget = new LmdpExperiment.Budget(16, 64, 40, 40, 32, 256, 6);
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    new LmdpExperiment(budget).run(7, dir, new PrintStream(console, true,
        StandardCharsets.UTF_8));
    JsonObject r = JsonParser.parseString(Files.readString(dir.resolve("result.json")))
        .getAsJsonObject();
    assertEquals("lmdp", r.get("experiment").getAsString());
    assertEquals(7, r.get("seed").getAsLong());
    JsonObject problems = r.getAsJsonObject("problems");
    // curves.csv: problem,method,iteration,samples,objective,relative_gap
    Map<String, List<double[]>> curves = new HashMap<>();
    List<String> lines = Files.readAllLines(dir.resolve(r.get("curves").getAsString()));
    assertEquals("problem,method,iteration,samples,objective,relative_gap", lines.get(0));
    for (String line : lines.subList(1, lines.size())) {
      String[] cells = line.split(",");
      curves.computeIfAbsent(cells[0] + "," + cells[1], k -> new ArrayList<>()).add(
          new double[] {Double.parseDouble(cells[2]), Double.parseDouble(cells[3]),
              Double.parseDouble(cells[4]), Double.parseDouble(cells[5])});
    }
    assertEquals(List.of("gridworld", "gaussian"), List.copyOf(problems.keySet()));
    for (String name : problems.keySet()) {
      JsonObject p = problems.getAsJsonObject(name);
      double initialGap = p.get("initial_relative_gap").getAsDouble();
      assertTrue(initialGap > 1, name + ": θ = 0 (the passive chain) is far from J*, gap "
          + initialGap);
      JsonObject methods = p.getAsJsonObject("methods");
      assertEquals(LmdpExperiment.METHODS, List.copyOf(methods.keySet()));
      for (String method : LmdpExperiment.METHODS) {
        JsonObject m = methods.getAsJsonObject(method);
        String what = name + " " + method;
        double gap = m.get("final_relative_gap").getAsDouble();
        assertTrue(m.has("samples_to_1pct"), what);
        List<double[]> curve = curves.getOrDefault(name + "," + method, List.of());
        long iterations = method.startsWith("gradient") ? budget.gradientIterations()
            : method.equals("chain_iteration") ? budget.ciIterations() : budget.zIterations();
        assertEquals(iterations, curve.size(), what);
        assertEquals(iterations, m.get("iterations").getAsLong(), what);
        double[] gaps = new double[curve.size()];
        long[] samples = new long[curve.size()];
        for (int i = 0; i < gaps.length; i++) {
          assertEquals(i + 1, curve.get(i)[0], 0.0, what);
          samples[i] = (long) curve.get(i)[1];
          gaps[i] = curve.get(i)[3];
          assertTrue(i == 0 || samples[i] > samples[i - 1], what);
        }
        // the curve is written to 6 significant digits
        assertEquals(gap, gaps[gaps.length - 1], 1e-5 * Math.abs(gap), what);
        // J* is the optimum over all chains: no θ beats it (beyond round-off)
        for (double g : gaps) {
          assertTrue(g > -1e-9, what + " gap " + g);
        }
        // the gaps shrink: below 15% of θ0's gap (seed 7 measures 0-10%), and below the first
        // iteration's
        assertTrue(gap < 0.15 * initialGap, what + ": final gap " + gap + ", initial "
            + initialGap);
        assertTrue(gap < gaps[0], what + ": final gap " + gap + ", first iteration " + gaps[0]);
        Long reached = LmdpExperiment.samplesToTarget(samples, gaps);
        assertEquals(reached == null, m.get("samples_to_1pct").isJsonNull(), what);
      }
    }
    // the top level repeats the gridworld's figures
    JsonObject top = r.getAsJsonObject("methods");
    assertEquals("gridworld", r.get("methods_problem").getAsString());
    for (String method : LmdpExperiment.METHODS) {
      JsonObject m = top.getAsJsonObject(method);
      JsonObject g = problems.getAsJsonObject("gridworld").getAsJsonObject("methods")
          .getAsJsonObject(method);
      assertEquals(g.get("final_relative_gap"), m.get("final_relative_gap"), method);
      assertEquals(g.get("samples_to_1pct"), m.get("samples_to_1pct"), method);
    }
    BufferedImage png = ImageIO.read(dir.resolve(r.get("figure").getAsString()).toFile());
    assertNotNull(png);
    assertEquals(1120, png.getWidth());
    assertTrue(Files.exists(dir.resolve("gridworld/gradient/metrics.csv")));
    assertTrue(Files.exists(dir.resolve("gaussian/chain_iteration/summary.json")));
    String out = console.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("gaussian z_learning_off") && out.contains("wrote"), out);
  }

  @Test
  void samplesToTheTargetCountOnlyATargetKeptToTheEnd() {
    long[] samples = {10, 20, 30, 40, 50};
    assertEquals(40L, LmdpExperiment.samplesToTarget(samples,
        new double[] {0.5, 0.009, 0.02, 0.008, 0.01}));
    assertEquals(10L, LmdpExperiment.samplesToTarget(samples,
        new double[] {0.001, 0.002, 0.003, 0.004, 0.005}));
    assertNull(LmdpExperiment.samplesToTarget(samples,
        new double[] {0.001, 0.002, 0.003, 0.004, 0.011}));
  }

  @Test
  void figureTicksAreRoundNumbers() {
    assertEquals("1", GapFigure.countLabel(1, 0));
    assertEquals("500", GapFigure.countLabel(5, 2));
    assertEquals("20k", GapFigure.countLabel(2, 4));
    assertEquals("1M", GapFigure.countLabel(1, 6));
    assertEquals("0.001", GapFigure.gapLabel(-3));
    assertEquals("100", GapFigure.gapLabel(2));
    assertEquals("1e-6", GapFigure.gapLabel(-6));
    assertEquals(2e6, GapFigure.roundUp(1_966_080), 1e-6);
    assertEquals(1000, GapFigure.roundUp(1000), 1e-9);
    assertEquals(500, GapFigure.roundDown(512), 1e-9);
    assertEquals(1, GapFigure.roundDown(1), 1e-12);
  }

  @Test
  void experimentsAreLookedUpByName() {
    assertEquals("lmdp", Experiments.named("lmdp").name());
    assertTrue(Experiments.names().contains("lmdp"));
    String message = assertThrows(IllegalArgumentException.class,
        () -> Experiments.named("lmpd")).getMessage();
    assertTrue(message.contains("NAME") && message.contains(Experiments.names().toString())
        && message.contains("lmpd"), message);
    assertThrows(IllegalArgumentException.class,
        () -> new LmdpExperiment.Budget(0, 1, 1, 1, 1, 1, 1));
  }
}
