package io.dsogym.experiment;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * One experiment of {@code dsogym experiment NAME}: a self-contained run that writes
 * DIR/result.json and its figures. A new experiment is one class implementing this, listed in
 * {@link Experiments}.
 */
public interface Experiment {
  /** The NAME on the command line. */
  String name();

  /** One line for {@code dsogym experiment --help}. */
  String summary();

  /**
   * Runs the experiment; every sampler is seeded from {@code seed}, so a run reproduces.
   *
   * @param out the directory to write result.json and the figures into (created if missing)
   * @param console progress and a summary of the figures
   * @return what was written to result.json
   */
  Map<String, Object> run(long seed, Path out, PrintStream console) throws Exception;
}
