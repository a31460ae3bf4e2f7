package io.dsogym.experiment;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A PNG of log-log panels drawn with Java2D (headless), one line per method, for curves that
 * span decades: a relative gap (J - J*)/|J*| against iterations or samples. Ticks sit on the
 * powers of ten, with unlabelled minor ticks at 2..9 times them, and a dashed reference line
 * marks a target gap. Values at or below {@code floor} (J equal to J* to round-off) are drawn
 * on the floor.
 */
final class GapFigure {
  private GapFigure() {}

  /** One line: x and y of equal length (y may hold NaN where there is no value). */
  record Series(String label, Color color, double[] x, double[] y) {}

  record Panel(String title, String xLabel, String yLabel, List<Series> series) {
    /** A panel of relative gaps (J - J*)/|J*|. */
    Panel(String title, String xLabel, List<Series> series) {
      this(title, xLabel, "(J - J*) / |J*|", series);
    }
  }

  private static final int PANEL_W = 560;
  private static final int PANEL_H = 380;
  private static final int LEFT = 70;
  private static final int RIGHT = 24;
  private static final int TOP = 34;
  private static final int BOTTOM = 48;
  private static final int HEADER = 78;

  /**
   * @param columns panels per row (rows follow)
   * @param reference the y of the dashed line, labelled {@code referenceLabel}
   */
  static void write(Path png, String title, List<Panel> panels, int columns, double reference,
      String referenceLabel, double floor) throws IOException {
    System.setProperty("java.awt.headless", "true");
    int rows = (panels.size() + columns - 1) / columns;
    int width = columns * PANEL_W;
    int height = HEADER + rows * PANEL_H;
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING,
        RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 17));
    g.drawString(title, LEFT, 28);
    legend(g, panels.get(0).series(), LEFT, 52, width);
    for (int i = 0; i < panels.size(); i++) {
      panel(g, panels.get(i), (i % columns) * PANEL_W, HEADER + (i / columns) * PANEL_H,
          reference, referenceLabel, floor);
    }
    g.dispose();
    ImageIO.write(img, "png", png.toFile());
  }

  /** One row of entries, wrapped onto a second row where the image is too narrow. */
  private static void legend(Graphics2D g, List<Series> series, int left, int y, int width) {
    int x = left;
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    FontMetrics fm = g.getFontMetrics();
    for (Series s : series) {
      if (x > left && x + 32 + fm.stringWidth(s.label()) > width - RIGHT) {
        x = left;
        y += 18;
      }
      g.setColor(s.color());
      g.setStroke(new BasicStroke(2.5f));
      g.drawLine(x, y - 4, x + 26, y - 4);
      g.setColor(Color.BLACK);
      g.drawString(s.label(), x + 32, y);
      x += 32 + fm.stringWidth(s.label()) + 28;
    }
    g.setStroke(new BasicStroke(1f));
  }

  private static void panel(Graphics2D g, Panel p, int ox, int oy, double reference,
      String referenceLabel, double floor) {
    double xMin = Double.POSITIVE_INFINITY;
    double xMax = 0;
    double yMin = Double.POSITIVE_INFINITY;
    double yMax = 0;
    for (Series s : p.series()) {
      for (int i = 0; i < s.x().length; i++) {
        if (s.x()[i] > 0 && !Double.isNaN(s.y()[i])) {
          xMin = Math.min(xMin, s.x()[i]);
          xMax = Math.max(xMax, s.x()[i]);
          yMin = Math.min(yMin, Math.max(floor, s.y()[i]));
          yMax = Math.max(yMax, Math.max(floor, s.y()[i]));
        }
      }
    }
    if (!(xMax > 0)) {
      xMin = 1;
      xMax = 10;
      yMin = reference;
      yMax = reference;
    }
    yMin = Math.min(yMin, reference);
    yMax = Math.max(yMax, reference);
    // x from and to a round 1, 2 or 5 × 10^d; y over whole decades
    double x0 = Math.log10(roundDown(xMin));
    double x1 = Math.max(x0 + 1, Math.log10(roundUp(xMax)));
    int y0 = (int) Math.floor(Math.log10(yMin) + 1e-9);
    int y1 = Math.max(y0 + 1, (int) Math.ceil(Math.log10(yMax) - 1e-9));
    Axes a = new Axes(ox + LEFT, oy + TOP, PANEL_W - LEFT - RIGHT, PANEL_H - TOP - BOTTOM, x0, x1,
        y0, y1);
    g.setStroke(new BasicStroke(1f));

    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
    g.setColor(Color.BLACK);
    g.drawString(p.title(), a.left, oy + TOP - 12);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    FontMetrics fm = g.getFontMetrics();
    // grid and ticks: every decade labelled, 2..9 times it as minor ticks
    // decades and the axis' ends are labelled, and with at most three decades 2 and 5 times
    // a decade too
    boolean fine = x1 - x0 <= 3 + 1e-9;
    for (int d = (int) Math.floor(x0 + 1e-9); d <= (int) Math.ceil(x1 - 1e-9); d++) {
      for (int m = 1; m <= 9; m++) {
        double v = m * Math.pow(10, d);
        double lv = Math.log10(v);
        if (lv < x0 - 1e-9 || lv > x1 + 1e-9) {
          continue;
        }
        int px = a.px(v);
        g.setColor(m == 1 ? new Color(225, 225, 225) : new Color(242, 242, 242));
        g.drawLine(px, a.top, px, a.top + a.height);
        g.setColor(Color.BLACK);
        g.drawLine(px, a.top + a.height, px, a.top + a.height + (m == 1 ? 6 : 3));
        boolean end = Math.abs(lv - x0) < 1e-9 || Math.abs(lv - x1) < 1e-9;  // a 1, 2 or 5
        if (m == 1 || end || (fine && (m == 2 || m == 5))) {
          String label = countLabel(m, d);
          g.drawString(label, px - fm.stringWidth(label) / 2, a.top + a.height + 20);
        }
      }
    }
    for (int d = y0; d <= y1; d++) {
      for (int m = 1; m <= (d < y1 ? 9 : 1); m++) {
        int py = a.py(m * Math.pow(10, d));
        g.setColor(m == 1 ? new Color(225, 225, 225) : new Color(242, 242, 242));
        g.drawLine(a.left, py, a.left + a.width, py);
        g.setColor(Color.BLACK);
        g.drawLine(a.left - (m == 1 ? 6 : 3), py, a.left, py);
        if (m == 1) {
          String label = gapLabel(d);
          g.drawString(label, a.left - 9 - fm.stringWidth(label), py + 4);
        }
      }
    }
    g.setColor(Color.BLACK);
    g.drawRect(a.left, a.top, a.width, a.height);
    g.drawString(p.xLabel(), a.left + a.width / 2 - fm.stringWidth(p.xLabel()) / 2,
        a.top + a.height + 38);
    String yLabel = p.yLabel();
    AffineTransform saved = g.getTransform();
    g.rotate(-Math.PI / 2, ox + 16, a.top + a.height / 2.0);
    g.drawString(yLabel, ox + 16 - fm.stringWidth(yLabel) / 2, a.top + a.height / 2 + 4);
    g.setTransform(saved);

    g.setColor(Color.GRAY);
    g.setStroke(new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
        new float[] {6f, 5f}, 0f));
    int ry = a.py(reference);
    g.drawLine(a.left, ry, a.left + a.width, ry);
    g.drawString(referenceLabel, a.left + a.width - fm.stringWidth(referenceLabel) - 4, ry - 4);

    g.setStroke(new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
    g.setClip(a.left, a.top, a.width + 1, a.height + 1);
    for (Series s : p.series()) {
      Path2D.Double path = new Path2D.Double();
      boolean started = false;
      for (int i = 0; i < s.x().length; i++) {
        if (!(s.x()[i] > 0) || Double.isNaN(s.y()[i])) {
          continue;
        }
        double px = a.pxExact(s.x()[i]);
        double py = a.pyExact(Math.max(floor, s.y()[i]));
        if (started) {
          path.lineTo(px, py);
        } else {
          path.moveTo(px, py);
          started = true;
        }
      }
      g.setColor(s.color());
      g.draw(path);
    }
    g.setClip(null);
    g.setStroke(new BasicStroke(1f));
  }

  /** m × 10^d as a count: 1, 2, 5, 10, ..., 1k, 20k, 500k, 1M, ... (d >= 0). */
  static String countLabel(int m, int d) {
    if (d < 0) {
      return String.format(Locale.ROOT, "%de%d", m, d);
    }
    String[] suffix = {"", "k", "M", "G"};
    int group = Math.min(d / 3, suffix.length - 1);
    long mantissa = m * (long) Math.pow(10, d - 3 * group);
    return mantissa + suffix[group];
  }

  /** The largest 1, 2 or 5 × 10^d at most v (v > 0). */
  static double roundDown(double v) {
    double decade = Math.pow(10, Math.floor(Math.log10(v) + 1e-9));
    for (int m : new int[] {5, 2, 1}) {
      if (m * decade <= v * (1 + 1e-9)) {
        return m * decade;
      }
    }
    return decade;
  }

  /** The smallest 1, 2 or 5 × 10^d at least v (v > 0). */
  static double roundUp(double v) {
    double decade = Math.pow(10, Math.floor(Math.log10(v) + 1e-9));
    for (int m : new int[] {1, 2, 5, 10}) {
      if (m * decade >= v * (1 - 1e-9)) {
        return m * decade;
      }
    }
    return 10 * decade;
  }

  /** 10^d as a plain decimal between 0.0001 and 1000, else 1e±d. */
  static String gapLabel(int d) {
    if (d >= -4 && d <= 3) {
      return d >= 0 ? Long.toString((long) Math.pow(10, d))
          : "0." + "0".repeat(-d - 1) + "1";
    }
    return String.format(Locale.ROOT, "1e%d", d);
  }

  /** A panel's plotting area and its log-log map to pixels. */
  private record Axes(int left, int top, int width, int height, double x0, double x1, int y0,
      int y1) {
    double pxExact(double x) {
      return left + width * (Math.log10(x) - x0) / (x1 - x0);
    }

    double pyExact(double y) {
      return top + height * (y1 - Math.log10(y)) / (y1 - y0);
    }

    int px(double x) {
      return (int) Math.round(pxExact(x));
    }

    int py(double y) {
      return (int) Math.round(pyExact(y));
    }
  }
}
