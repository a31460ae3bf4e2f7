package io.dsogym.train;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * DIR/metrics.csv: one row per iteration, flushed as it is written so a killed run keeps its
 * curve. A resumed run drops rows past the checkpoint's iteration and appends. Every row also
 * goes to DIR's TensorBoard events file ({@link TensorBoardLog}), at step = env steps.
 */
public final class MetricsLog implements AutoCloseable {
  public static final List<String> COLUMNS = List.of("iteration", "env_steps", "episodes",
      "wall_seconds", "steps_per_second", "train_mean_return", "eval_mean_return",
      "eval_std_return", "value_loss", "grad_norm", "learning_rate", "policy_std", "kl",
      "surrogate_change", "exact_objective");

  private static final int ENV_STEPS = COLUMNS.indexOf("env_steps");

  private final BufferedWriter out;
  private final TensorBoardLog events;

  /** Opens the log; rows with an iteration above {@code keepThrough} are dropped first. */
  public MetricsLog(Path file, long keepThrough) throws IOException {
    List<String> kept = new ArrayList<>();
    kept.add(String.join(",", COLUMNS));
    if (Files.exists(file)) {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      for (int i = 1; i < lines.size(); i++) {
        String line = lines.get(i);
        int comma = line.indexOf(',');
        if (comma > 0 && Long.parseLong(line.substring(0, comma)) <= keepThrough) {
          kept.add(line);
        }
      }
    }
    Files.write(file, kept, StandardCharsets.UTF_8);
    events = new TensorBoardLog(file.toAbsolutePath().getParent(), COLUMNS);
    for (double[] row : read(file)) {
      events.row((long) row[ENV_STEPS], row);
    }
    out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
  }

  /**
   * Writes one row; NaN is written as an empty cell. The events file gets the cells' values
   * as written (6 significant digits), the same a resumed run replays from the file.
   */
  public void row(double... values) throws IOException {
    if (values.length != COLUMNS.size()) {
      throw new IllegalArgumentException("metrics row: expected " + COLUMNS.size()
          + " values, got " + values.length);
    }
    StringBuilder sb = new StringBuilder();
    double[] written = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      if (i > 0) {
        sb.append(',');
      }
      double v = values[i];
      written[i] = Double.NaN;
      if (Double.isNaN(v)) {
        continue;
      }
      String cell = v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v)
          : String.format(Locale.ROOT, "%.6g", v);
      sb.append(cell);
      written[i] = Double.parseDouble(cell);
    }
    out.write(sb.toString());
    out.newLine();
    out.flush();
    events.row((long) written[ENV_STEPS], written);
  }

  /** Reads a metrics file back as rows of doubles (NaN for empty cells), for the plot. */
  public static List<double[]> read(Path file) throws IOException {
    List<double[]> rows = new ArrayList<>();
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 1; i < lines.size(); i++) {
      String[] cells = lines.get(i).split(",", -1);
      double[] row = new double[cells.length];
      for (int j = 0; j < cells.length; j++) {
        row[j] = cells[j].isEmpty() ? Double.NaN : Double.parseDouble(cells[j]);
      }
      rows.add(row);
    }
    return rows;
  }

  @Override
  public void close() throws IOException {
    try (events) {
      out.close();
    }
  }
}
