package io.dsogym.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The whole training state, written atomically to DIR/checkpoint.json (a temporary file, then
 * an atomic rename), so a run killed at any moment resumes from the last complete iteration.
 */
public final class Checkpoint {
  public static final String FILE = "checkpoint.json";
  private static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues()
      .create();

  /** Field names are the JSON keys. */
  public static final class State {
    public int version = 1;
    public TrainConfig config;
    public long iteration;
    public long envSteps;
    public long episodes;
    public double wallSeconds;
    public Long stepsToThreshold;
    public double lastEvalMean = Double.NaN;
    public double lastEvalStd = Double.NaN;
    public long nextEvalAt;
    public double[] theta;
    public double[] adamM;
    public double[] adamV;
    public long adamSteps;
    public double[] valueTheta;
    public double[] valueAdamM;
    public double[] valueAdamV;
    public long valueAdamSteps;
    public double[] obsMean;
    public double[] obsVar;
    public double obsCount;
    /** θ at the start of the run (J0 of the exact report), or null without an exact solver. */
    public double[] exactInitialTheta;
    /** The exact J at the last evaluation, or NaN. */
    public double lastExactObjective = Double.NaN;
    /** V̂ is fit on targets / valueScale, the running RMS of its targets. */
    public double valueScale = 1.0;
    public double valueSquareMean;
    public double valueScaleCount;
    /** The optimizer's own state across batches (Chain Iteration's damping μ). */
    public double[] improverState;
    /** The best evaluation so far and the env steps it was made at (its state is in best/). */
    public double bestEvalMean = Double.NaN;
    public Long bestEvalEnvSteps;

    /** Training workers lost (and replaced) so far. */
    public long workersLost;

    /** A deep copy, field for field as a checkpoint writes it (an evaluated iteration's state). */
    public State copy() {
      return GSON.fromJson(GSON.toJsonTree(this), State.class);
    }
  }

  /** The folder of a run directory that holds the checkpoint of its best evaluated policy. */
  public static final String BEST_DIR = "best";

  private Checkpoint() {}

  public static void write(Path dir, State state) throws IOException {
    Files.createDirectories(dir);
    Path tmp = dir.resolve(FILE + ".tmp");
    Files.writeString(tmp, GSON.toJson(state), StandardCharsets.UTF_8);
    Files.move(tmp, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }

  public static State read(Path dir) throws IOException {
    Path file = dir.resolve(FILE);
    if (!Files.exists(file)) {
      throw new IOException("no checkpoint: expected " + file + " (written by bin/dsogym train "
          + "--out " + dir + ")");
    }
    State s = GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), State.class);
    if (s == null || s.config == null || s.theta == null) {
      throw new IOException(file + ": expected a dsogym training checkpoint, got an incomplete "
          + "JSON document");
    }
    return s;
  }
}
