package io.dsogym.oracle;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link LmdpChain#free} against the same chain given dense one-hot features through the
 * constructor: the sparse free parameterization changes nothing but the cost of a row.
 */
class LmdpChainTest {
  @Test
  void theFreeChainEqualsItsDenseOneHotForm() {
    int n = 6;
    SplittableRandom rng = new SplittableRandom(2);
    double[][] p = new double[n][n];
    boolean[] terminal = {false, false, false, false, false, true};
    for (int x = 0; x < n - 1; x++) {
      double sum = 0;
      for (int y = 0; y < n; y++) {
        p[x][y] = rng.nextDouble() < 0.6 || y == x + 1 ? rng.nextDouble() : 0;
        sum += p[x][y];
      }
      for (int y = 0; y < n; y++) {
        p[x][y] /= sum;
      }
    }
    double[] q = {0.3, 0.1, 0.4, 0.2, 0.5, 0};
    double[] p0 = {1, 0, 0, 0, 0, 0};
    LmdpChain free = LmdpChain.free(p, q, terminal, p0);
    int k = free.numParams();
    double[][][] features = new double[n][n][k];
    int j = 0;
    for (int x = 0; x < n; x++) {
      for (int y = 0; y < n; y++) {
        if (!terminal[x] && p[x][y] > 0) {
          features[x][y][j++] = 1;
        }
      }
    }
    assertEquals(j, k);
    LmdpChain dense = new LmdpChain(p, q, features, terminal, p0);
    double[] theta = new double[k];
    for (int i = 0; i < k; i++) {
      theta[i] = rng.nextGaussian();
    }
    double tol = 1e-13;
    assertArrayEquals(dense.costVector(theta), free.costVector(theta), tol);
    for (int x = 0; x < n; x++) {
      assertArrayEquals(dense.controlled(x, theta), free.controlled(x, theta), tol);
      assertArrayEquals(dense.costGradients(theta)[x], free.costGradients(theta)[x], tol);
      for (int a = 0; a < k; a++) {
        assertArrayEquals(dense.costHessians(theta)[x][a], free.costHessians(theta)[x][a], tol);
      }
      for (int y = 0; y < n; y++) {
        assertArrayEquals(dense.scores(theta)[x][y], free.scores(theta)[x][y], tol);
        if (p[x][y] > 0 && !terminal[x]) {
          double[] gd = new double[k];
          double[] gf = new double[k];
          dense.score(x, y, null, theta, 0.7, gd);
          free.score(x, y, null, theta, 0.7, gf);
          assertArrayEquals(gd, gf, tol);
          assertEquals(dense.logProb(x, y, theta), free.logProb(x, y, theta), tol);
          for (int a = 0; a < k; a++) {
            assertArrayEquals(dense.scoreHessians(theta)[x][y][a],
                free.scoreHessians(theta)[x][y][a], tol);
          }
        }
      }
    }
    // θ = 0 is the passive dynamics
    double[] zero = new double[k];
    for (int x = 0; x < n - 1; x++) {
      assertArrayEquals(p[x], free.controlled(x, zero), 1e-15);
    }
  }
}
