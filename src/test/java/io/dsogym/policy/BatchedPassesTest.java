package io.dsogym.policy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;

/**
 * The batched forward and backward passes (matrix products over a shuffled minibatch) against
 * the same network evaluated one row at a time, on random shapes, activations, parameters and
 * inputs. The sums run in the same order, so the tolerance, 1e-12 relative to the largest
 * magnitude compared, only admits floating-point reassociation.
 */
class BatchedPassesTest {
  private static final double RELATIVE = 1e-12;

  private record Case(int[] sizes, PolicySpec.Activation activation, int rows, int[] index,
      double[] x, double[] theta) {}

  private static Case randomCase(SplittableRandom rng) {
    int layers = 1 + rng.nextInt(4);  // 0 to 3 hidden layers
    int[] sizes = new int[layers + 1];
    for (int l = 0; l <= layers; l++) {
      sizes[l] = 1 + rng.nextInt(l == 0 || l == layers ? 20 : 70);
    }
    PolicySpec.Activation activation = rng.nextBoolean()
        ? PolicySpec.Activation.TANH : PolicySpec.Activation.RELU;
    int transitions = 1 + rng.nextInt(700);  // past MlpPolicy's block of 256 rows
    double[] x = new double[transitions * sizes[0]];
    for (int i = 0; i < x.length; i++) {
      x[i] = rng.nextDouble(-3, 3);
    }
    int[] index = shuffled(transitions, rng);
    Mlp net = new Mlp(sizes, activation);
    double[] theta = new double[net.numParams()];
    for (int i = 0; i < theta.length; i++) {
      theta[i] = rng.nextDouble(-1, 1);
    }
    return new Case(sizes, activation, transitions, index, x, theta);
  }

  private static int[] shuffled(int n, SplittableRandom rng) {
    int[] index = new int[n];
    for (int i = 0; i < n; i++) {
      index[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = index[i];
      index[i] = index[j];
      index[j] = t;
    }
    return index;
  }

  private static void assertClose(double[] expected, double[] actual, String what) {
    double scale = 0;
    double worst = 0;
    for (int i = 0; i < expected.length; i++) {
      scale = Math.max(scale, Math.abs(expected[i]));
      worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
    }
    assertTrue(worst <= RELATIVE * Math.max(scale, 1e-300),
        what + ": max |batched - per row| = " + worst + " at magnitude " + scale);
  }

  @RepeatedTest(40)
  void mlpForwardAndBackwardOverAMinibatchEqualRowByRow(RepetitionInfo info) {
    SplittableRandom rng = new SplittableRandom(100 + info.getCurrentRepetition());
    Case c = randomCase(rng);
    Mlp net = new Mlp(c.sizes, c.activation);
    int in = net.inputs();
    int outputs = net.outputs();
    int from = rng.nextInt(c.rows);
    int to = from + 1 + rng.nextInt(c.rows - from);
    int rows = to - from;
    double[] dOut = new double[rows * outputs];
    for (int i = 0; i < dOut.length; i++) {
      dOut[i] = rng.nextDouble(-1, 1);
    }

    double[] expectedOut = new double[rows * outputs];
    double[] expectedGrad = new double[net.numParams()];
    double[] one = new double[outputs];
    for (int k = from; k < to; k++) {
      net.forward(c.theta, 0, c.x, c.index[k] * in, expectedOut, (k - from) * outputs);
      System.arraycopy(dOut, (k - from) * outputs, one, 0, outputs);
      net.backward(c.theta, 0, one, 0, 1.0, expectedGrad);
    }

    double[] out = net.forwardRows(c.theta, 0, c.x, c.index, from, to).clone();
    double[] grad = new double[net.numParams()];
    net.backward(c.theta, 0, dOut, 0, grad);
    assertClose(expectedOut, java.util.Arrays.copyOf(out, rows * outputs), "outputs");
    assertClose(expectedGrad, grad, "gradient");

    // contiguous rows, at an offset, into an output at an offset
    double[] contiguous = new double[rows * in + 3];
    for (int k = from; k < to; k++) {
      System.arraycopy(c.x, c.index[k] * in, contiguous, 3 + (k - from) * in, in);
    }
    double[] shifted = new double[rows * outputs + 2];
    net.forward(c.theta, 0, contiguous, 3, rows, shifted, 2);
    assertClose(expectedOut, java.util.Arrays.copyOfRange(shifted, 2, shifted.length),
        "contiguous outputs");
  }

  @RepeatedTest(30)
  void policyLogProbsAndScoresOverAMinibatchEqualPerTransition(RepetitionInfo info) {
    SplittableRandom rng = new SplittableRandom(200 + info.getCurrentRepetition());
    Case c = randomCase(rng);
    List<Integer> hidden = new ArrayList<>();
    for (int l = 1; l < c.sizes.length - 1; l++) {
      hidden.add(c.sizes[l]);
    }
    PolicySpec.Head head = rng.nextBoolean() ? PolicySpec.Head.CATEGORICAL
        : PolicySpec.Head.GAUSSIAN;
    int actions = 1 + rng.nextInt(6);
    MlpPolicy p = new MlpPolicy(new PolicySpec(head, c.sizes[0], hidden, c.activation,
        actions), -0.4);
    double[] theta = p.initialTheta(rng.nextLong());
    for (int i = 0; i < theta.length; i++) {
      theta[i] += rng.nextDouble(-0.5, 0.5);  // away from the near-uniform start
    }
    int d = p.obsDim();
    int ad = p.actionDim();
    double[] a = new double[c.rows * ad];
    for (int i = 0; i < c.rows; i++) {
      p.sample(theta, c.x, i * d, rng, a, i * ad);
    }
    double[] weight = new double[c.rows];
    for (int i = 0; i < c.rows; i++) {
      weight[i] = rng.nextInt(5) == 0 ? 0.0 : rng.nextDouble(-2, 2);  // zeros are skipped
    }

    double[] expectedLogp = new double[c.rows];
    double[] expectedGrad = new double[p.numParams()];
    for (int k = 0; k < c.rows; k++) {
      int i = c.index[k];
      expectedLogp[k] = p.accumulateScore(theta, c.x, i * d, a, i * ad, weight[k],
          expectedGrad);
    }

    double[] logp = new double[c.rows];
    p.logProbs(theta, c.x, a, c.index, 0, c.rows, logp);
    assertClose(expectedLogp, logp, "ln pi");
    double[] grad = new double[p.numParams()];
    double[] scoreLogp = new double[c.rows];
    p.accumulateScores(theta, c.x, a, c.index, 0, c.rows, weight, grad, scoreLogp);
    assertClose(expectedLogp, scoreLogp, "ln pi of the score pass");
    assertClose(expectedGrad, grad, "score");
  }
}
