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
}
