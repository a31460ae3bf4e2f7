package io.dsogym.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The state-estimator chain's exact quantities: its mean-square error against a long sampled
 * run, the Kalman gain as the minimizer of that error (a zero finite-difference gradient and
 * no better gain nearby), and the score against finite differences of ln P.
 */
class LinearFilterChainTest {
  static LinearFilterChain lqg() {
    return new LinearFilterChain(new double[][] {{0.9, 0.2}, {0, 0.7}},
        new double[][] {{1, 0}}, new double[][] {{0.05, 0}, {0, 0.1}},
        new double[][] {{0.2}}, 0.05);
  }

  @Test
  @DisplayName("the exact mean-square error matches a long sampled run within 4 standard errors")
  void meanSquareErrorMatchesSampling() {
    LinearFilterChain chain = lqg();
    double[] theta = {0.3, 0.1};
    double exact = chain.meanSquareError(chain.gain(theta));
    SplittableRandom rng = new SplittableRandom(5);
    double[] z = chain.sampleInitial(rng);
    for (int t = 0; t < 1_000; t++) {
      z = chain.step(z, theta, rng).next();
    }
    // batch means over blocks of 1,000 steps: nearly independent (the error mixes in ~10)
    int blocks = 400;
    double[] means = new double[blocks];
    for (int b = 0; b < blocks; b++) {
      double sum = 0;
      for (int t = 0; t < 1_000; t++) {
        sum += chain.cost(z, theta);
        z = chain.step(z, theta, rng).next();
      }
      means[b] = sum / 1_000;
    }
    double mean = 0;
    for (double m : means) {
      mean += m / blocks;
    }
    double var = 0;
    for (double m : means) {
      var += (m - mean) * (m - mean) / (blocks - 1);
    }
    double se = Math.sqrt(var / blocks);
    assertEquals(exact, mean, 4 * se, "exact " + exact + ", sampled " + mean + " ± " + se);
  }

  @Test
  @DisplayName("the Kalman gain minimizes the exact error: zero gradient, nothing better nearby")
  void kalmanGainIsTheMinimizer() {
    LinearFilterChain chain = lqg();
    double[][] kalman = chain.kalmanGain();
    double best = chain.meanSquareError(kalman);
    double h = 1e-5;
    for (int i = 0; i < 2; i++) {
      double[][] plus = {{kalman[0][0]}, {kalman[1][0]}};
      double[][] minus = {{kalman[0][0]}, {kalman[1][0]}};
      plus[i][0] += h;
      minus[i][0] -= h;
      double grad = (chain.meanSquareError(plus) - chain.meanSquareError(minus)) / (2 * h);
      assertEquals(0, grad, 1e-7, "dJ/dL[" + i + "] at the Kalman gain");
    }
    SplittableRandom rng = new SplittableRandom(2);
    for (int k = 0; k < 200; k++) {
      double[][] other = {{kalman[0][0] + 0.05 * rng.nextGaussian()},
          {kalman[1][0] + 0.05 * rng.nextGaussian()}};
      assertTrue(chain.meanSquareError(other) >= best, "a better gain than Kalman's");
    }
  }

  @Test
  @DisplayName("the score is the θ-derivative of ln P")
  void scoreIsTheDerivativeOfLogProb() {
    LinearFilterChain chain = lqg();
    double[] theta = {0.4, -0.2};
    SplittableRandom rng = new SplittableRandom(9);
    double[] z = chain.sampleInitial(rng);
    for (int t = 0; t < 20; t++) {
      double[] next = chain.step(z, theta, rng).next();
      double[] score = new double[2];
      chain.score(z, next, null, theta, 1.0, score);
      for (int j = 0; j < 2; j++) {
        double[] plus = theta.clone();
        double[] minus = theta.clone();
        plus[j] += 1e-6;
        minus[j] -= 1e-6;
        double fd = (chain.logProb(z, next, plus) - chain.logProb(z, next, minus)) / 2e-6;
        assertEquals(fd, score[j], 1e-5 * Math.max(1, Math.abs(fd)));
      }
      z = next;
    }
  }
}
