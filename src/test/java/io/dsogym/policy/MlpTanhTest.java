package io.dsogym.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The MLP's exp-based tanh agrees with Math.tanh to a few ulps over the whole range. */
class MlpTanhTest {
  @Test
  void fastTanhMatchesMathTanh() {
    double worst = 0;
    for (double s = -30; s <= 30; s += 1e-3) {
      double err = Math.abs(Mlp.tanh(s) - Math.tanh(s));
      worst = Math.max(worst, err);
      assertEquals(Math.tanh(s), Mlp.tanh(s), 4e-16, "tanh(" + s + ")");
    }
    assertEquals(0.0, Mlp.tanh(0.0), 0.0);
  }
}
