package io.dsogym.dso;

import io.dsogym.policy.PolicySpec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** V̂ regression: a linear V̂ recovers a linear target, an MLP fits a nonlinear one. */
class ValueFunctionTest {
  private static double[] inputs(int rows, int d, SplittableRandom rng) {
    double[] xs = new double[rows * d];
    for (int i = 0; i < xs.length; i++) {
      xs[i] = rng.nextDouble(-1, 1);
    }
    return xs;
  }

  @Test
  void linearValueFunctionRecoversALinearTarget() {
    SplittableRandom rng = new SplittableRandom(1);
    int rows = 512;
    double[] xs = inputs(rows, 3, rng);
    double[] t = new double[rows];
    for (int r = 0; r < rows; r++) {
      t[r] = 2 * xs[r * 3] - xs[r * 3 + 1] + 0.5 * xs[r * 3 + 2] + 3;
    }
    ValueFunction v = new ValueFunction(3, List.of(), PolicySpec.Activation.TANH, 0.05, 0);
    double loss = v.fit(xs, t, rows, 300, 64, rng);
    assertTrue(loss < 1e-6, "mse " + loss);
    assertEquals(3 + 2 * 0.5, v.predict(new double[] {0.5, 0, 0}, 0), 1e-3);
  }

  @Test
  void mlpValueFunctionFitsANonlinearTargetFarBetterThanTheMean() {
    SplittableRandom rng = new SplittableRandom(2);
    int rows = 1024;
    double[] xs = inputs(rows, 2, rng);
    double[] t = new double[rows];
    double mean = 0;
    for (int r = 0; r < rows; r++) {
      t[r] = Math.sin(3 * xs[r * 2]) * xs[r * 2 + 1];
      mean += t[r] / rows;
    }
    double variance = 0;
    for (double y : t) {
      variance += (y - mean) * (y - mean) / rows;
    }
    ValueFunction v = new ValueFunction(2, List.of(32, 32), PolicySpec.Activation.TANH, 0.01, 0);
    double loss = v.fit(xs, t, rows, 200, 64, rng);
    assertTrue(loss < 0.05 * variance, "mse " + loss + " vs target variance " + variance);
  }

  /**
   * The trainer fits V̂ to targets divided by a running scale; when the scale moves from s to
   * s', V̂ must be rescaled by s/s' or its predictions in absolute units jump (they used to).
   */
  @Test
  void scaleOutputMultipliesEveryPredictionExactly() {
    ValueFunction v = new ValueFunction(3, java.util.List.of(8, 8), PolicySpec.Activation.TANH,
        0.01, 4);
    java.util.SplittableRandom rng = new java.util.SplittableRandom(9);
    int rows = 64;
    double[] xs = new double[rows * 3];
    double[] targets = new double[rows];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < 3; j++) {
        xs[r * 3 + j] = rng.nextGaussian();
      }
      targets[r] = Math.sin(xs[r * 3]) + xs[r * 3 + 1];
    }
    v.fit(xs, targets, rows, 5, 16, new java.util.SplittableRandom(1));
    double[] before = new double[rows];
    v.predictBatch(xs, rows, before);
    v.scaleOutput(0.37);
    double[] after = new double[rows];
    v.predictBatch(xs, rows, after);
    for (int r = 0; r < rows; r++) {
      org.junit.jupiter.api.Assertions.assertEquals(0.37 * before[r], after[r],
          1e-12 * (1 + Math.abs(before[r])));
    }
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> v.scaleOutput(0));
  }
}
