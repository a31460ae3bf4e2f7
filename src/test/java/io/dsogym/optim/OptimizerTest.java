package io.dsogym.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Both optimizers minimize a quadratic; Adam's restored state continues identically. */
class OptimizerTest {
  /** f(x) = Σ c_i (x_i - 1)^2 with badly scaled c. */
  private static void quadraticGrad(double[] x, double[] g) {
    double[] c = {1, 10, 100};
    for (int i = 0; i < 3; i++) {
      g[i] = 2 * c[i] * (x[i] - 1);
    }
  }

  @Test
  void sgdAndAdamMinimizeAQuadratic() {
    for (Optimizer opt : new Optimizer[] {new Sgd(0.004), new Adam(0.05)}) {
      double[] x = {5, -3, 2};
      double[] g = new double[3];
      for (int k = 0; k < 3000; k++) {
        quadraticGrad(x, g);
        opt.step(x, g);
      }
      assertArrayEquals(new double[] {1, 1, 1}, x, 1e-3, opt.getClass().getSimpleName());
    }
  }

  @Test
  void adamRestoredFromItsStateTakesTheSameSteps() {
    Adam a = new Adam(0.1);
    double[] x = {5, -3, 2};
    double[] g = new double[3];
    for (int k = 0; k < 10; k++) {
      quadraticGrad(x, g);
      a.step(x, g);
    }
    Adam b = new Adam(0.1);
    b.restore(a.m(), a.v(), a.steps());
    double[] y = x.clone();
    for (int k = 0; k < 10; k++) {
      quadraticGrad(x, g);
      a.step(x, g);
      quadraticGrad(y, g);
      b.step(y, g);
    }
    assertArrayEquals(x, y, 0.0);
    assertEquals(20, b.steps());
  }
}
