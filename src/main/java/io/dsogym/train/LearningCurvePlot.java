package io.dsogym.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.Range;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/**
 * Draws DIR/learning_curve.png from metrics.csv with JFreeChart (headless): the evaluation mean
 * return with its ± std band and the training episodes' mean return against env steps, the
 * target as a labelled dashed line. The axes pick their tick unit from JFreeChart's standard
 * units (1, 2, 2.5 or 5 × 10^k; whole numbers of steps on x), so the ticks are round.
 */
public final class LearningCurvePlot {
  static final int WIDTH = 900;
  static final int HEIGHT = 540;
  private static final Color EVAL = new Color(200, 60, 40);
  private static final Color TRAIN = new Color(120, 160, 220);

  private LearningCurvePlot() {}

  public static void write(Path metricsCsv, Path png, String title, Double target)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    ChartUtils.saveChartAsPNG(png.toFile(), chart(MetricsLog.read(metricsCsv), title, target),
        WIDTH, HEIGHT);
  }

  /** The chart of metrics rows (columns as {@link MetricsLog#COLUMNS}). */
  static JFreeChart chart(List<double[]> rows, String title, Double target) {
    int steps = MetricsLog.COLUMNS.indexOf("env_steps");
    int train = MetricsLog.COLUMNS.indexOf("train_mean_return");
    int eval = MetricsLog.COLUMNS.indexOf("eval_mean_return");
    int evalStd = MetricsLog.COLUMNS.indexOf("eval_std_return");
    YIntervalSeries evaluation = new YIntervalSeries("evaluation (mean ± std)");
    XYSeries training = new XYSeries("training episodes (mean return)");
    for (double[] r : rows) {
      if (!Double.isNaN(r[eval])) {
        double std = Double.isNaN(r[evalStd]) ? 0 : r[evalStd];
        evaluation.add(r[steps], r[eval], r[eval] - std, r[eval] + std);
      }
      if (!Double.isNaN(r[train])) {
        training.add(r[steps], r[train]);
      }
    }

    NumberAxis x = new NumberAxis("env steps");
    x.setStandardTickUnits(NumberAxis.createIntegerTickUnits(Locale.ROOT));
    x.setAutoRangeIncludesZero(true);
    NumberAxis y = new NumberAxis("return");
    y.setStandardTickUnits(NumberAxis.createStandardTickUnits(Locale.ROOT));
    y.setAutoRangeIncludesZero(false);

    DeviationRenderer evalRenderer = new DeviationRenderer(true, true);
    evalRenderer.setSeriesPaint(0, EVAL);
    evalRenderer.setSeriesFillPaint(0, EVAL);
    evalRenderer.setSeriesStroke(0, new BasicStroke(2.5f));
    evalRenderer.setAlpha(0.2f);
    XYLineAndShapeRenderer trainRenderer = new XYLineAndShapeRenderer(true, false);
    trainRenderer.setSeriesPaint(0, TRAIN);
    trainRenderer.setSeriesStroke(0, new BasicStroke(1.5f));

    YIntervalSeriesCollection evaluations = new YIntervalSeriesCollection();
    evaluations.addSeries(evaluation);
    XYPlot plot = new XYPlot(evaluations, x, y, evalRenderer);
    plot.setDataset(1, new XYSeriesCollection(training));
    plot.setRenderer(1, trainRenderer);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    if (target != null) {
      ValueMarker line = new ValueMarker(target, Color.DARK_GRAY, new BasicStroke(1.2f,
          BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 6f}, 0f));
      line.setLabel(String.format(Locale.ROOT, "target %s", tickLabel(target)));
      line.setLabelAnchor(RectangleAnchor.TOP_LEFT);
      line.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
      plot.addRangeMarker(0, line, Layer.FOREGROUND);
      // markers do not widen the auto range: widen it so the target is always on the chart
      Range data = y.getRange();
      if (!data.contains(target)) {
        Range both = Range.expandToInclude(data, target);
        y.setRange(Range.expand(both, 0.05, 0.05));
      }
    }
    JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, true);
    chart.setBackgroundPaint(Color.WHITE);
    return chart;
  }

  private static String tickLabel(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%g", v);
  }
}
