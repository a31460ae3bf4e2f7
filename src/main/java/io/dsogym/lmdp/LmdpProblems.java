package io.dsogym.lmdp;

import io.dsogym.oracle.LmdpChain;
import java.util.Locale;

/**
 * First-exit LMDPs (docs/math.md §2g, §5) with the free controlled chain (one parameter per
 * allowed transition, {@link LmdpChain#free}), so that the optimum u* is reachable by every
 * method and J* = Σ P0 (-ln z) is the target.
 */
public final class LmdpProblems {
  private LmdpProblems() {}

  /** A named problem: its chain and a one-line description of what it is. */
  public record Problem(String name, String description, LmdpChain chain) {}

  /**
   * A size × size gridworld with a wall. Cells (c, r), c the column and r the row; the start is
   * (0, 0), the goal (size-1, 0) is the one terminal state, with q = 0. Column size/2 is a wall
   * from row 0 up to row size-3, so the way to the goal leads over it. The passive dynamics
   * step to each of the up-to-four free neighbours with equal probability (a random walk);
   * every other cell costs {@code stepCost} per step.
   */
  public static Problem gridworld(int size, double stepCost) {
    if (size < 4) {
      throw new IllegalArgumentException("size: expected >= 4 (room for the wall), got " + size);
    }
    requirePositive("stepCost", stepCost);
    int wallColumn = size / 2;
    int[][] id = new int[size][size];
    int n = 0;
    for (int r = 0; r < size; r++) {
      for (int c = 0; c < size; c++) {
        boolean wall = c == wallColumn && r <= size - 3;
        id[c][r] = wall ? -1 : n++;
      }
    }
    double[][] passive = new double[n][n];
    double[] q = new double[n];
    boolean[] terminal = new boolean[n];
    int goal = id[size - 1][0];
    int[][] moves = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
    for (int r = 0; r < size; r++) {
      for (int c = 0; c < size; c++) {
        int x = id[c][r];
        if (x < 0) {
          continue;
        }
        terminal[x] = x == goal;
        q[x] = x == goal ? 0 : stepCost;
        int free = 0;
        for (int[] m : moves) {
          free += cell(id, c + m[0], r + m[1]) >= 0 ? 1 : 0;
        }
        for (int[] m : moves) {
          int y = cell(id, c + m[0], r + m[1]);
          if (y >= 0 && x != goal) {
            passive[x][y] = 1.0 / free;
          }
        }
      }
    }
    double[] p0 = new double[n];
    p0[id[0][0]] = 1;
    String description = String.format(Locale.ROOT, "%dx%d gridworld, a wall in column %d "
        + "(rows 0-%d), start (0,0), goal (%d,0); passive random walk to the free neighbours, "
        + "q = %s per step; %d states, first exit", size, size, wallColumn, size - 3, size - 1,
        stepCost, n);
    return new Problem("gridworld", description, LmdpChain.free(passive, q, terminal, p0));
  }

  /**
   * A quadratic-cost Gaussian LMDP on a line: {@code states} cells at x_i = (i - m) h,
   * m = (states-1)/2, h = 2 / (states-1), so x ∈ [-1, 1]. The passive dynamics are a
   * discretized Gaussian random walk, p(j|i) ∝ exp(-(j-i)² / (2 σ²)) with σ = {@code sigmaCells}
   * cells, cut at 3σ and renormalized at the ends. The state cost is q(x) = {@code costScale}·x²
   * + {@code stepCost}; the three centre cells are terminal with q = 0 (first exit at the
   * origin). The chain starts at x = 1.
   */
  public static Problem gaussian(int states, double sigmaCells, double costScale,
      double stepCost) {
    if (states < 7 || states % 2 == 0) {
      throw new IllegalArgumentException("states: expected an odd number >= 7, got " + states);
    }
    requirePositive("sigmaCells", sigmaCells);
    requirePositive("costScale", costScale);
    requirePositive("stepCost", stepCost);
    int n = states;
    int centre = (n - 1) / 2;
    double h = 2.0 / (n - 1);
    int reach = (int) Math.ceil(3 * sigmaCells);
    double[][] passive = new double[n][n];
    double[] q = new double[n];
    boolean[] terminal = new boolean[n];
    for (int i = 0; i < n; i++) {
      double x = (i - centre) * h;
      terminal[i] = Math.abs(i - centre) <= 1;
      q[i] = terminal[i] ? 0 : costScale * x * x + stepCost;
      if (terminal[i]) {
        continue;
      }
      double sum = 0;
      for (int j = Math.max(0, i - reach); j <= Math.min(n - 1, i + reach); j++) {
        passive[i][j] = Math.exp(-(j - i) * (j - i) / (2 * sigmaCells * sigmaCells));
        sum += passive[i][j];
      }
      for (int j = 0; j < n; j++) {
        passive[i][j] /= sum;
      }
    }
    double[] p0 = new double[n];
    p0[n - 1] = 1;
    String description = String.format(Locale.ROOT, "quadratic-cost Gaussian LMDP: %d cells on "
        + "[-1, 1], passive Gaussian random walk with σ = %s cells (cut at 3σ), q = %s x² + %s, "
        + "terminal |x| <= %s (q = 0), start x = 1, first exit", n, sigmaCells, costScale,
        stepCost, String.format(Locale.ROOT, "%.3g", h));
    return new Problem("gaussian", description, LmdpChain.free(passive, q, terminal, p0));
  }

  private static int cell(int[][] id, int c, int r) {
    return c < 0 || r < 0 || c >= id.length || r >= id.length ? -1 : id[c][r];
  }

  private static void requirePositive(String field, double v) {
    if (!(v > 0) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(field + ": expected finite and > 0, got " + v);
    }
  }
}
