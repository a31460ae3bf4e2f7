package io.dsogym.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisState;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTick;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleEdge;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * learning_curve.png: a decodable PNG whose axes tick at round values and whose target is a
 * labelled line inside the range. No pixel comparisons: the ticks are read from the axes as
 * JFreeChart lays them out for the PNG's size.
 */
class LearningCurvePlotTest {
  @TempDir
  Path dir;

  /**
   * A CartPole-like run, 40 iterations of 512 steps (20,480 in all), evaluated every 5 rows,
   * whose returns span -4..524 (the range on which the Java2D chart ticked at 101, 207, ...).
   */
  private static List<double[]> rows(double top) {
    List<double[]> rows = new ArrayList<>();
    int n = MetricsLog.COLUMNS.size();
    for (int i = 1; i <= 40; i++) {
      double[] r = new double[n];
      Arrays.fill(r, Double.NaN);
      r[MetricsLog.COLUMNS.indexOf("iteration")] = i;
      r[MetricsLog.COLUMNS.indexOf("env_steps")] = 512 * i;
      r[MetricsLog.COLUMNS.indexOf("train_mean_return")] = -4 + (top + 4) * i / 40.0;
      if (i % 5 == 0) {
        r[MetricsLog.COLUMNS.indexOf("eval_mean_return")] = top * i / 40.0;
        r[MetricsLog.COLUMNS.indexOf("eval_std_return")] = 10;
      }
      rows.add(r);
    }
    return rows;
  }

  private static void writeCsv(Path csv, List<double[]> rows) throws IOException {
    try (MetricsLog log = new MetricsLog(csv, 0)) {
      for (double[] r : rows) {
        log.row(r);
      }
    }
  }

  /** Whether v is a whole multiple of unit, and unit is 1, 2, 2.5 or 5 times a power of 10. */
  private static boolean round(double v, double unit) {
    double mantissa = unit / Math.pow(10, Math.floor(Math.log10(unit)));
    boolean roundUnit = List.of(1.0, 2.0, 2.5, 5.0).stream()
        .anyMatch(m -> Math.abs(mantissa - m) < 1e-9);
    double multiple = v / unit;
    return roundUnit && Math.abs(multiple - Math.rint(multiple)) < 1e-9;
  }

  /** The tick values of an axis as drawn on a chart of the PNG's size. */
  private static List<Double> ticks(JFreeChart chart, NumberAxis axis, RectangleEdge edge) {
    BufferedImage image = new BufferedImage(LearningCurvePlot.WIDTH, LearningCurvePlot.HEIGHT,
        BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    ChartRenderingInfo info = new ChartRenderingInfo();
    chart.draw(g, new Rectangle2D.Double(0, 0, image.getWidth(), image.getHeight()), info);
    List<?> ticks = axis.refreshTicks(g, new AxisState(), info.getPlotInfo().getDataArea(), edge);
    g.dispose();
    return ticks.stream().map(t -> ((NumberTick) t).getValue()).collect(Collectors.toList());
  }

  @Test
  void writesADecodablePngWithRoundTicksAndTheTargetLabelled() throws IOException {
    Path csv = dir.resolve("metrics.csv");
    writeCsv(csv, rows(524));
    Path png = dir.resolve("learning_curve.png");
    LearningCurvePlot.write(csv, png, "CartPole-v1 - gradient (seed 0)", 475.0);
    BufferedImage decoded = ImageIO.read(png.toFile());
    assertNotNull(decoded, "learning_curve.png does not decode as an image");
    assertEquals(LearningCurvePlot.WIDTH, decoded.getWidth());
    assertEquals(LearningCurvePlot.HEIGHT, decoded.getHeight());

    JFreeChart chart = LearningCurvePlot.chart(MetricsLog.read(csv), "t", 475.0);
    XYPlot plot = chart.getXYPlot();
    NumberAxis x = (NumberAxis) plot.getDomainAxis();
    NumberAxis y = (NumberAxis) plot.getRangeAxis();
    List<Double> xTicks = ticks(chart, x, RectangleEdge.BOTTOM);
    List<Double> yTicks = ticks(chart, y, RectangleEdge.LEFT);
    assertTrue(xTicks.size() >= 3 && yTicks.size() >= 3, "x " + xTicks + ", y " + yTicks);
    double xUnit = x.getTickUnit().getSize();
    double yUnit = y.getTickUnit().getSize();
    assertTrue(xTicks.stream().allMatch(v -> round(v, xUnit)), xUnit + ": " + xTicks);
    assertTrue(yTicks.stream().allMatch(v -> round(v, yUnit)), yUnit + ": " + yTicks);

    Collection<?> markers = plot.getRangeMarkers(Layer.FOREGROUND);
    assertEquals(1, markers.size(), "one target line");
    ValueMarker target = (ValueMarker) markers.iterator().next();
    assertEquals(475.0, target.getValue());
    assertEquals("target 475", target.getLabel());
  }

  @Test
  void aTargetAboveTheDataIsStillOnTheChart() {
    JFreeChart chart = LearningCurvePlot.chart(rows(200), "t", 475.0);
    NumberAxis y = (NumberAxis) chart.getXYPlot().getRangeAxis();
    assertTrue(y.getRange().contains(475.0), "y range " + y.getRange());
    List<Double> yTicks = ticks(chart, y, RectangleEdge.LEFT);
    double yUnit = y.getTickUnit().getSize();
    assertTrue(yTicks.stream().allMatch(v -> round(v, yUnit)), yUnit + ": " + yTicks);
  }

  @Test
  void noTargetNoLine() {
    JFreeChart chart = LearningCurvePlot.chart(rows(200), "t", null);
    Collection<?> markers = chart.getXYPlot().getRangeMarkers(Layer.FOREGROUND);
    assertTrue(markers == null || markers.isEmpty(), "markers " + markers);
  }

  @Test
  void aRunWithoutRowsStillDraws() throws IOException {
    Path csv = dir.resolve("metrics.csv");
    writeCsv(csv, List.of());
    Path png = dir.resolve("empty.png");
    LearningCurvePlot.write(csv, png, "empty", -250.0);
    assertTrue(Files.size(png) > 0);
    assertNotNull(ImageIO.read(png.toFile()));
  }
}
