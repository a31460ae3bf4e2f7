package io.dsogym.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * Draws DIR/learning_curve.png from metrics.csv with Java2D (headless): the training episodes'
 * mean return and the evaluation mean ± std against env steps, with the target as a dashed
 * line. No plotting dependency is needed for one chart.
 */
public final class LearningCurvePlot {
  private static final int W = 900;
  private static final int H = 540;
  private static final int LEFT = 80;
  private static final int RIGHT = 30;
  private static final int TOP = 50;
  private static final int BOTTOM = 60;

  private LearningCurvePlot() {}

  public static void write(Path metricsCsv, Path png, String title, Double target)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    List<double[]> rows = MetricsLog.read(metricsCsv);
    int steps = MetricsLog.COLUMNS.indexOf("env_steps");
    int train = MetricsLog.COLUMNS.indexOf("train_mean_return");
    int eval = MetricsLog.COLUMNS.indexOf("eval_mean_return");
    int evalStd = MetricsLog.COLUMNS.indexOf("eval_std_return");
    double xMax = 1;
    double yMin = Double.POSITIVE_INFINITY;
    double yMax = Double.NEGATIVE_INFINITY;
    for (double[] r : rows) {
      xMax = Math.max(xMax, r[steps]);
      for (int c : new int[] {train, eval}) {
        if (!Double.isNaN(r[c])) {
          yMin = Math.min(yMin, r[c]);
          yMax = Math.max(yMax, r[c]);
        }
      }
    }
    if (target != null) {
      yMin = Math.min(yMin, target);
      yMax = Math.max(yMax, target);
    }
    if (!(yMax > yMin)) {
      yMin = Double.isInfinite(yMin) ? 0 : yMin - 1;
      yMax = yMin + 2;
    }
    double pad = 0.05 * (yMax - yMin);
    final double lo = yMin - pad;
    final double hi = yMax + pad;
    final double xm = xMax;

    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, W, H);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    g.drawString(title, LEFT, 30);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.drawRect(LEFT, TOP, W - LEFT - RIGHT, H - TOP - BOTTOM);
    for (int i = 0; i <= 5; i++) {
      double xv = xm * i / 5;
      double yv = lo + (hi - lo) * i / 5;
      g.drawString(String.format(Locale.ROOT, "%,.0f", xv), px(xv, xm) - 20, H - BOTTOM + 18);
      g.drawString(String.format(Locale.ROOT, "%.0f", yv), 10, py(yv, lo, hi) + 4);
    }
    g.drawString("env steps", W / 2 - 30, H - 15);
    g.drawString("return", 10, TOP - 10);

    if (target != null) {
      g.setColor(Color.GRAY);
      g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
          new float[] {6f, 6f}, 0f));
      g.drawLine(LEFT, py(target, lo, hi), W - RIGHT, py(target, lo, hi));
    }
    g.setStroke(new BasicStroke(1.5f));
    drawSeries(g, rows, steps, train, new Color(120, 160, 220), xm, lo, hi);
    g.setStroke(new BasicStroke(2.5f));
    drawSeries(g, rows, steps, eval, new Color(200, 60, 40), xm, lo, hi);
    g.setColor(new Color(200, 60, 40));
    for (double[] r : rows) {
      if (!Double.isNaN(r[eval]) && !Double.isNaN(r[evalStd])) {
        int x = px(r[steps], xm);
        g.drawLine(x, py(r[eval] - r[evalStd], lo, hi), x, py(r[eval] + r[evalStd], lo, hi));
      }
    }
    g.setColor(new Color(120, 160, 220));
    g.drawString("training episodes (mean return)", W - 420, H - BOTTOM - 12);
    g.setColor(new Color(200, 60, 40));
    g.drawString("evaluation (mean ± std)", W - 200, H - BOTTOM - 12);
    g.dispose();
    ImageIO.write(img, "png", png.toFile());
  }

  private static void drawSeries(Graphics2D g, List<double[]> rows, int xc, int yc, Color c,
      double xm, double lo, double hi) {
    Path2D.Double path = new Path2D.Double();
    boolean started = false;
    for (double[] r : rows) {
      if (Double.isNaN(r[yc])) {
        continue;
      }
      if (started) {
        path.lineTo(px(r[xc], xm), py(r[yc], lo, hi));
      } else {
        path.moveTo(px(r[xc], xm), py(r[yc], lo, hi));
        started = true;
      }
    }
    g.setColor(c);
    g.draw(path);
  }

  private static int px(double x, double xMax) {
    return LEFT + (int) Math.round((W - LEFT - RIGHT) * x / xMax);
  }

  private static int py(double y, double lo, double hi) {
    return TOP + (int) Math.round((H - TOP - BOTTOM) * (hi - y) / (hi - lo));
  }
}
