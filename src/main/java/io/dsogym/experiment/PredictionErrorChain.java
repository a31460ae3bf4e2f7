package io.dsogym.experiment;

import io.dsogym.chain.Chain;
import io.dsogym.envs.control.Pendulum;
import java.util.SplittableRandom;

/**
 * Closed-loop, multi-step system identification as a DSO chain (docs/math.md §6): the state is
 * a pendulum model's state (theta, theta_dot) together with a time index into a recorded
 * segment; each step drives the model with the recorded torque, theta_dot' ~ N(f(x̂, u_t, φ),
 * σ_m²) and theta' = theta + theta_dot' dt (the Java Pendulum-v1 with process noise), and the
 * cost is the model's prediction error against the recording at that time, (wrapped angle
 * error)² + 0.1 (velocity error)², Pendulum's own cost weights. A segment ends after H steps
 * with its final error. θ = (g, m) with l held at 1, the identifiable pair (3g/(2l) and
 * 3/(m l²) are all the dynamics see).
 *
 * <p>The state is {segment, t, theta, theta_dot}; segments start where the recording has H
 * more steps in the same episode.
 */
final class PredictionErrorChain implements Chain<double[]> {
  private final SysidData data;
  private final int horizon;
  private final double sigma;
  private final int[] starts;

  PredictionErrorChain(SysidData data, int horizon, double modelNoise) {
    this.data = data;
    this.horizon = horizon;
    this.sigma = modelNoise;
    this.starts = data.segmentStarts(horizon);
    if (starts.length == 0) {
      throw new IllegalArgumentException("horizon: expected segments of " + horizon + " steps "
          + "in the recording, got none");
    }
  }

  /** (g, m, l) of θ = (g, m). */
  static double[] physical(double[] theta) {
    return new double[] {theta[0], theta[1], 1.0};
  }

  int horizon() {
    return horizon;
  }

  @Override
  public int numParams() {
    return 2;
  }

  @Override
  public double[] sampleInitial(SplittableRandom rng) {
    int i = starts[rng.nextInt(starts.length)];
    return new double[] {i, 0, data.theta(i), data.thetaDot(i)};
  }

  @Override
  public Step<double[]> step(double[] z, double[] theta, SplittableRandom rng) {
    int i = data.at((int) z[0], (int) z[1]);
    double v = Pendulum.velocityMean(z[2], z[3], data.action(i), physical(theta))
        + sigma * rng.nextGaussian();
    return new Step<>(new double[] {z[0], z[1] + 1, z[2] + v * Pendulum.DT, v}, null);
  }

  @Override
  public void score(double[] z, double[] next, double[] latent, double[] theta, double weight,
      double[] gradAccum) {
    double[] g = new double[3];
    Pendulum.velocityLogDensity(z[2], z[3], data.action(data.at((int) z[0], (int) z[1])),
        next[3], physical(theta), sigma, weight, g, 0);
    gradAccum[0] += g[0];
    gradAccum[1] += g[1];
  }

  @Override
  public double logProb(double[] z, double[] next, double[] theta) {
    return Pendulum.velocityLogDensity(z[2], z[3],
        data.action(data.at((int) z[0], (int) z[1])), next[3], physical(theta), sigma, 0, null,
        0);
  }

  /** The prediction error against the recorded state at the same time. */
  @Override
  public double cost(double[] z, double[] theta) {
    int i = data.at((int) z[0], (int) z[1]);
    double angle = Math.IEEEremainder(z[2] - data.theta(i), 2 * Math.PI);
    double velocity = z[3] - data.thetaDot(i);
    return angle * angle + 0.1 * velocity * velocity;
  }

  @Override
  public void costGradient(double[] z, double[] theta, double weight, double[] gradAccum) {}

  @Override
  public boolean isTerminal(double[] z) {
    return z[1] >= horizon;
  }
}
