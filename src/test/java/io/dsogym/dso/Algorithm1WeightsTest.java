package io.dsogym.dso;

import io.dsogym.chain.TrajectoryBatch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The backward accumulation of docs/math.md §3d on small batches worked out by hand. */
class Algorithm1WeightsTest {
  private static final double G = 0.9;

  /** One lane, three steps: costs 1, 2, 3; flags set on the last step. */
  private static TrajectoryBatch oneLane(boolean terminated, boolean truncated) {
    TrajectoryBatch b = new TrajectoryBatch(1, 1);
    b.ensureCapacity(1, 3);
    b.cost[0] = 1;
    b.cost[1] = 2;
    b.cost[2] = 3;
    b.episodeStep[0] = 0;
    b.episodeStep[1] = 1;
    b.episodeStep[2] = 2;
    b.terminated[2] = terminated;
    b.truncated[2] = truncated;
    return b;
  }

  private static double[][] run(TrajectoryBatch b, double[] v, double[] vNext,
      Algorithm1.Options o) {
    double[] w = new double[b.size()];
    double[] targets = new double[b.size()];
    Algorithm1.weights(b, v, vNext, o, 0.0, w, targets);
    return new double[][] {w, targets};
  }

  @Test
  void terminatedEpisodeUsesMonteCarloReturnsWithZeroTerminalValue() {
    TrajectoryBatch b = oneLane(true, false);
    double[] zero = new double[3];
    double[] vNext = {0, 0, 100};  // ignored: the terminal state has V = 0
    double[][] r = run(b, zero, vNext, Algorithm1.Options.discounted(G));
    double g2 = 3;
    double g1 = 2 + G * g2;
    double g0 = 1 + G * g1;
    assertArrayEquals(new double[] {g0, g1, g2}, r[1], 1e-12);
    // With V̂ = 0 the weight is γ^t G_t (Theorem 1 without a baseline).
    assertArrayEquals(new double[] {g0, G * g1, G * G * g2}, r[0], 1e-12);
  }

  @Test
  void truncatedAndCutLanesBootstrapWithTheNextValue() {
    double[] v = {0.5, 0.25, 0.125};
    double[] vNext = {7, 7, 10};
    for (boolean truncated : new boolean[] {true, false}) {
      TrajectoryBatch b = oneLane(false, truncated);  // not truncated: cut by the batch end
      double[][] r = run(b, v, vNext, new Algorithm1.Options(Algorithm1.Setting.DISCOUNTED, G,
          1.0, false));
      double g2 = 3 + G * 10;
      double g1 = 2 + G * g2;
      double g0 = 1 + G * g1;
      assertArrayEquals(new double[] {g0, g1, g2}, r[1], 1e-12);
      assertArrayEquals(new double[] {g0 - 0.5, g1 - 0.25, g2 - 0.125}, r[0], 1e-12);
    }
  }

  @Test
  void lambdaZeroGivesOneStepCriticTargets() {
    TrajectoryBatch b = oneLane(true, false);
    double[] v = {1, 2, 3};
    double[] vNext = {4, 5, 6};
    double[][] r = run(b, v, vNext, new Algorithm1.Options(Algorithm1.Setting.DISCOUNTED, G, 0.0,
        false));
    assertArrayEquals(new double[] {1 + G * 4, 2 + G * 5, 3}, r[1], 1e-12);
    assertArrayEquals(new double[] {1 + G * 4 - 1, 2 + G * 5 - 2, 3 - 3}, r[0], 1e-12);
  }

  @Test
  void lanesAreIndependentAndEpisodesRestartWithinALane() {
    // Two lanes, two steps; lane 0 terminates at step 0 and restarts, lane 1 runs on.
    TrajectoryBatch b = new TrajectoryBatch(1, 1);
    b.ensureCapacity(2, 2);
    b.cost[TrajectoryBatch.index(0, 0, 2)] = 1;
    b.terminated[TrajectoryBatch.index(0, 0, 2)] = true;
    b.cost[TrajectoryBatch.index(1, 0, 2)] = 2;
    b.cost[TrajectoryBatch.index(0, 1, 2)] = 10;
    b.cost[TrajectoryBatch.index(1, 1, 2)] = 20;
    double[] zero = new double[4];
    double[] vNext = {0, 0, 5, 6};
    double[][] r = run(b, zero, vNext, Algorithm1.Options.discounted(1.0));
    // lane 0: [1 | terminated], [2 + V̂(x')=5]; lane 1: [10 + 20 + 6], [20 + 6]
    assertArrayEquals(new double[] {1, 36, 7, 26}, r[1], 1e-12);
  }

  @Test
  void averageCostSubtractsTheGainAndIgnoresGamma() {
    TrajectoryBatch b = oneLane(false, false);
    double[] zero = new double[3];
    double[] w = new double[3];
    double[] targets = new double[3];
    Algorithm1.weights(b, zero, new double[] {0, 0, 1}, new Algorithm1.Options(
        Algorithm1.Setting.AVERAGE_COST, 0.5, 1.0, true), 2.0, w, targets);
    // costs minus J = -1, 0, 1; γ forced to 1; the cut bootstraps with V̂ = 1.
    assertArrayEquals(new double[] {1, 2, 2}, targets, 1e-12);
  }

  @Test
  void rejectsGammaAndLambdaOutOfRange() {
    assertThrows(IllegalArgumentException.class,
        () -> new Algorithm1.Options(Algorithm1.Setting.DISCOUNTED, 1.5, 1, true));
    assertThrows(IllegalArgumentException.class,
        () -> new Algorithm1.Options(Algorithm1.Setting.DISCOUNTED, 0.9, -0.1, true));
  }

  /** docs/math.md §1c, §3c: the finite-horizon objective is the undiscounted total, γ = 1. */
  @Test
  void finiteHorizonRequiresGammaOne() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new Algorithm1.Options(Algorithm1.Setting.FINITE_HORIZON, 0.99, 1, true));
    String m = e.getMessage();
    assertTrue(m.contains("gamma") && m.contains("FINITE_HORIZON") && m.contains("expected 1")
        && m.contains("got 0.99"), m);
    Algorithm1.Options o = new Algorithm1.Options(Algorithm1.Setting.FINITE_HORIZON, 1.0, 1,
        true);
    assertEquals(1.0, o.effectiveGamma());
    // κ_t = γ^t = 1 and the targets are the undiscounted totals 6, 5, 3 (terminated at t = 2)
    TrajectoryBatch b = oneLane(true, false);
    double[][] r = run(b, new double[3], new double[3], o);
    assertArrayEquals(new double[] {6, 5, 3}, r[1], 1e-12);
    assertEquals(1.0, Algorithm1.stateWeight(b, 2, o));
  }
}
