package io.dsogym.envs.control;

import io.dsogym.env.DType;
import io.dsogym.env.Env;
import io.dsogym.env.EnvKwargs;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.ParametricSystem;
import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;
import io.dsogym.envs.NumpyRandom;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The inverted pendulum swing-up, step for step the same as Gymnasium 1.x {@code Pendulum-v1}
 * (gymnasium/envs/classic_control/pendulum.py).
 *
 * <p>A pendulum of mass {@link #MASS} and length {@link #LENGTH} hangs from a fixed pivot; the
 * goal is to swing it up and keep it upright (theta = 0) with a bounded torque.
 *
 * <p><b>Action space</b>: {@code Box(float32, [1])} in [-{@link #MAX_TORQUE}, {@link
 * #MAX_TORQUE}]: the torque (N m) applied at the pivot. A finite torque outside the bounds is
 * clipped into them, as Gymnasium does; NaN and infinities are refused.
 *
 * <p><b>Observation space</b>: {@code Box(float32, [3])}: cos(theta) and sin(theta) in [-1, 1]
 * and the angular velocity theta_dot (rad/s) in [-{@link #MAX_SPEED}, {@link #MAX_SPEED}].
 *
 * <p><b>Dynamics</b>: semi-implicit Euler over {@link #DT} seconds:
 * {@code thdot' = clip(thdot + (3 g / (2 l) sin(th) + 3 / (m l^2) u) dt, -8, 8)},
 * {@code th' = th + thdot' dt}. As in Gymnasium under numpy 2, a float32 action keeps the
 * terms that involve only u in float32 ({@code 3.0 * u} and {@code 0.001 * u^2}).
 *
 * <p><b>Reward</b>: {@code -(angle_normalize(th)^2 + 0.1 thdot^2 + 0.001 u^2)} for the state
 * before the step, in [-16.27, 0].
 *
 * <p><b>Starting state</b>: theta uniform in [-pi, pi] and theta_dot uniform in [-1, 1]. Reset
 * options {@code x_init} and {@code y_init} change those bounds, as in Gymnasium (finite
 * numbers >= 0; y_init > 8 starts outside the observation bound); option {@code state} (theta,
 * theta_dot, |theta_dot| <= 8) then overwrites the state exactly.
 *
 * <p><b>Termination</b>: never. <b>Truncation</b>: after {@link #MAX_EPISODE_STEPS} steps.
 *
 * <p>Kwargs: {@code g}, the gravitational acceleration (m/s^2, default 10.0); {@code m} and
 * {@code l}, the mass (kg) and length (m) (default 1.0 each, Gymnasium's constants); {@code
 * process_noise}, the standard deviation σ of a Gaussian noise added to theta_dot' after each
 * step (default 0: Gymnasium's deterministic dynamics, and no draw from the random stream).
 * Randomness comes from one {@link NumpyRandom} seeded by {@code reset(seed)}, numpy's generator
 * as Gymnasium seeds it, so {@code reset(seed=s)} starts from Gymnasium's initial state bit for
 * bit.
 *
 * <p><b>As a parametric system</b> (docs/math.md §10), φ is the blocks {@code g}, {@code m}
 * and {@code l}, one value each, and needs {@code process_noise} > 0 for a density: theta'
 * = theta + theta_dot'·dt is a deterministic function of the state and theta_dot', so p(x'|x,u,φ)
 * is the density of theta_dot', N(f(x,u,φ), σ²) with f the clipped velocity update above.
 * The noise is added after the clip, so theta_dot' may leave [-8, 8] by the noise. The
 * transition is read from the float32 observations (theta = atan2(sin, cos)), whose rounding
 * (about 1e-6) is far below any usable σ. The cost does not depend on φ.
 */
public final class Pendulum implements Env, ParametricSystem {
  public static final String ID = "Pendulum-v1";
  public static final int MAX_EPISODE_STEPS = 200;
  /** Bound on the angular velocity (rad/s). */
  public static final double MAX_SPEED = 8;
  /** Bound on the torque (N m). */
  public static final double MAX_TORQUE = 2.0;
  /** Time step (s). */
  public static final double DT = 0.05;
  /** Mass of the pendulum (kg). */
  public static final double MASS = 1.0;
  /** Length of the pendulum (m). */
  public static final double LENGTH = 1.0;
  /** Default gravitational acceleration (m/s^2). */
  public static final double DEFAULT_GRAVITY = 10.0;
  /** Default bound of the initial angle (rad). */
  public static final double DEFAULT_X = Math.PI;
  /** Default bound of the initial angular velocity (rad/s). */
  public static final double DEFAULT_Y = 1.0;

  private static final Set<String> KWARGS = Set.of("g", "m", "l", "process_noise");
  private static final Set<String> OPTIONS = Set.of("x_init", "y_init", "state");

  private final EnvSpec spec;
  private double g;
  private double mass;
  private double length;
  private final double processNoise;

  private NumpyRandom rng;
  private boolean started;
  private double th;
  private double thdot;
  private int elapsedSteps;

  public Pendulum() {
    this(Map.of());
  }

  /** @param kwargs {@code g}, {@code m}, {@code l}, {@code process_noise} (see the class) */
  public Pendulum(Map<String, Object> kwargs) {
    EnvKwargs.requireKnownKeys(kwargs, "kwargs", KWARGS);
    g = EnvKwargs.number(kwargs, "g", DEFAULT_GRAVITY, "kwargs.");
    mass = EnvKwargs.number(kwargs, "m", MASS, "kwargs.");
    length = EnvKwargs.number(kwargs, "l", LENGTH, "kwargs.");
    processNoise = EnvKwargs.number(kwargs, "process_noise", 0.0, "kwargs.");
    requirePhysical(g, mass, length, "kwargs.");
    if (!(processNoise >= 0) || !Double.isFinite(processNoise)) {
      throw new IllegalArgumentException("kwargs.process_noise: expected a finite number >= 0, "
          + "got " + processNoise);
    }
    Space obs = new Space.Box(DType.FLOAT32, new int[] {3},
        new double[] {-1.0, -1.0, -MAX_SPEED}, new double[] {1.0, 1.0, MAX_SPEED});
    Space act = Space.Box.uniform(DType.FLOAT32, new int[] {1}, -MAX_TORQUE, MAX_TORQUE);
    spec = new EnvSpec(ID, obs, act, MAX_EPISODE_STEPS, null, Map.of(),
        EnvKwargs.toJson(kwargs));
  }

  @Override
  public EnvSpec spec() {
    return spec;
  }

  public double gravity() {
    return g;
  }

  @Override
  public ResetResult reset(Long seed, Map<String, Object> options) {
    Map<String, Object> opts = options == null ? Map.of() : options;
    EnvKwargs.requireKnownKeys(opts, "options", OPTIONS);
    // The bounds Gymnasium takes: any finite numbers >= 0 (numpy's uniform refuses high < low).
    // |y_init| > 8 starts outside the observation bound; the first step's clip brings it back.
    double highX = EnvKwargs.number(opts, "x_init", DEFAULT_X, "options.");
    double highY = EnvKwargs.number(opts, "y_init", DEFAULT_Y, "options.");
    for (String key : List.of("x_init", "y_init")) {
      double bound = key.equals("x_init") ? highX : highY;
      if (bound < 0) {
        throw new IllegalArgumentException("options." + key + ": expected a number >= 0 (the "
            + "initial values are uniform in [-" + key + ", " + key + "]), got " + bound);
      }
    }
    double[] state = null;
    if (opts.containsKey("state")) {
      state = EnvKwargs.vector(opts.get("state"), "options.state", 2);
      if (Math.abs(state[1]) > MAX_SPEED) {
        throw new IllegalArgumentException("options.state[1]: expected theta_dot in ["
            + -MAX_SPEED + ", " + MAX_SPEED + "], got " + state[1]);
      }
    }

    if (seed != null) {
      rng = NumpyRandom.seeded(seed);
    } else if (rng == null) {
      rng = NumpyRandom.unseeded();
    }
    // np_random.uniform(low=-high, high=high) with high = [x_init, y_init].
    th = rng.uniform(-highX, highX);
    thdot = rng.uniform(-highY, highY);
    if (state != null) {
      th = state[0];
      thdot = state[1];
    }
    started = true;
    elapsedSteps = 0;
    return new ResetResult(observation(), Map.of());
  }

  /** Gymnasium's {@code np.clip(u, -max_torque, max_torque)}: any finite torque is valid. */
  @Override
  public boolean clipsActions() {
    return true;
  }

  @Override
  public StepResult step(Value action) {
    if (!started) {
      throw new IllegalStateException("step called before reset");
    }
    spec.actionSpace().checkClipped(action, "action");  // any finite torque: clipped below
    Tensor a = (Tensor) action;
    double torqueTerm;
    double torqueCost;
    if (a.dtype() == DType.FLOAT32) {
      // numpy 2 (NEP 50): python-float * float32 stays float32.
      float u = (float) Math.max(-MAX_TORQUE, Math.min(MAX_TORQUE, a.getDouble(0)));
      torqueCost = (float) 0.001 * (u * u);
      torqueTerm = (float) (3.0 / (mass * length * length)) * u;
    } else {
      double u = Math.max(-MAX_TORQUE, Math.min(MAX_TORQUE, a.getDouble(0)));
      torqueCost = 0.001 * (u * u);
      torqueTerm = 3.0 / (mass * length * length) * u;
    }
    double an = angleNormalize(th);
    double costs = an * an + 0.1 * (thdot * thdot) + torqueCost;

    double newthdot = thdot + (3 * g / (2 * length) * Math.sin(th) + torqueTerm) * DT;
    newthdot = Math.max(-MAX_SPEED, Math.min(MAX_SPEED, newthdot));
    if (processNoise > 0) {
      newthdot += processNoise * rng.nextGaussian();
    }
    double newth = th + newthdot * DT;
    th = newth;
    thdot = newthdot;

    elapsedSteps++;
    return new StepResult(observation(), -costs, false, elapsedSteps >= MAX_EPISODE_STEPS,
        Map.of());
  }

  private static void requirePhysical(double g, double m, double l, String prefix) {
    if (!Double.isFinite(g)) {
      throw new IllegalArgumentException(prefix + "g: expected a finite number, got " + g);
    }
    if (!(m > 0) || !Double.isFinite(m)) {
      throw new IllegalArgumentException(prefix + "m: expected a finite mass > 0, got " + m);
    }
    if (!(l > 0) || !Double.isFinite(l)) {
      throw new IllegalArgumentException(prefix + "l: expected a finite length > 0, got " + l);
    }
  }

  @Override
  public List<ParamBlock> systemParamBlocks() {
    return List.of(new ParamBlock("g", 1), new ParamBlock("m", 1), new ParamBlock("l", 1));
  }

  @Override
  public double[] systemParams() {
    return new double[] {g, mass, length};
  }

  @Override
  public void setSystemParams(double[] phi) {
    if (phi.length != 3) {
      throw new IllegalArgumentException("system params: expected 3 values (g, m, l), got "
          + phi.length);
    }
    requirePhysical(phi[0], phi[1], phi[2], "system params ");
    g = phi[0];
    mass = phi[1];
    length = phi[2];
  }

  /**
   * ln N(theta_dot'; f, σ²) with f the clipped velocity update; the score is
   * (theta_dot' − f)/σ² · ∂f/∂φ ({@link #velocityLogDensity}).
   */
  @Override
  public double accumulateTransitionScore(double[] obs, int obsOff, double[] action,
      int actionOff, double[] nextObs, int nextOff, double[] phi, double weight, double[] grad,
      int gradOff) {
    if (processNoise <= 0) {
      throw new IllegalStateException("kwargs.process_noise: expected > 0 for a transition "
          + "density (deterministic dynamics have none), got " + processNoise);
    }
    return velocityLogDensity(Math.atan2(obs[obsOff + 1], obs[obsOff]), obs[obsOff + 2],
        action[actionOff], nextObs[nextOff + 2], phi, processNoise, weight, grad, gradOff);
  }

  /**
   * f(theta, theta_dot, u, φ) = clip(theta_dot + (3g/(2l) sin theta + 3u/(m l²)) dt, ±8), the
   * noise-free next velocity, with u clipped to the torque bound; φ = (g, m, l).
   */
  public static double velocityMean(double theta, double thetaDot, double u, double[] phi) {
    double torque = Math.max(-MAX_TORQUE, Math.min(MAX_TORQUE, u));
    double unclipped = thetaDot + (3 * phi[0] / (2 * phi[2]) * Math.sin(theta)
        + 3 * torque / (phi[1] * phi[2] * phi[2])) * DT;
    return Math.max(-MAX_SPEED, Math.min(MAX_SPEED, unclipped));
  }

  /**
   * ln N(nextThetaDot; f, σ²) for f = {@link #velocityMean}, and grad[gradOff..+3] += weight ·
   * its (g, m, l)-gradient (nothing where the velocity clip is active: f is flat there; grad
   * may be null).
   */
  public static double velocityLogDensity(double theta, double thetaDot, double u,
      double nextThetaDot, double[] phi, double sigma, double weight, double[] grad,
      int gradOff) {
    double g = phi[0];
    double m = phi[1];
    double l = phi[2];
    double torque = Math.max(-MAX_TORQUE, Math.min(MAX_TORQUE, u));
    double sin = Math.sin(theta);
    double unclipped = thetaDot + (3 * g / (2 * l) * sin + 3 * torque / (m * l * l)) * DT;
    double f = Math.max(-MAX_SPEED, Math.min(MAX_SPEED, unclipped));
    double z = (nextThetaDot - f) / sigma;
    if (grad != null && weight != 0 && unclipped == f) {
      double s = weight * z / sigma;
      grad[gradOff] += s * 3 / (2 * l) * sin * DT;
      grad[gradOff + 1] += s * -3 * torque / (m * m * l * l) * DT;
      grad[gradOff + 2] += s * (-3 * g / (2 * l * l) * sin - 6 * torque / (m * l * l * l)) * DT;
    }
    return -0.5 * z * z - Math.log(sigma) - 0.5 * Math.log(2 * Math.PI);
  }

  @Override
  public double stepCost(double[] obs, int obsOff, double[] action, int actionOff,
      double[] nextObs, int nextOff, double[] phi) {
    double theta = Math.atan2(obs[obsOff + 1], obs[obsOff]);
    double u = Math.max(-MAX_TORQUE, Math.min(MAX_TORQUE, action[actionOff]));
    double thetaDot = obs[obsOff + 2];
    return theta * theta + 0.1 * thetaDot * thetaDot + 0.001 * u * u;
  }

  @Override
  public double accumulateCostGradient(double[] obs, int obsOff, double[] action,
      int actionOff, double[] nextObs, int nextOff, double[] phi, double weight, double[] grad,
      int gradOff) {
    return stepCost(obs, obsOff, action, actionOff, nextObs, nextOff, phi);
  }

  /** The state (theta, theta_dot) in double precision, for tests. */
  public double[] state() {
    return new double[] {th, thdot};
  }

  /** ((x + pi) mod 2 pi) - pi with numpy's floor-mod (result has the divisor's sign). */
  static double angleNormalize(double x) {
    double b = 2 * Math.PI;
    double m = (x + Math.PI) % b;
    if (m != 0 && m < 0) {
      m += b;
    }
    return m - Math.PI;
  }

  private Tensor observation() {
    return Tensor.ofFloat32(new int[] {3},
        new float[] {(float) Math.cos(th), (float) Math.sin(th), (float) thdot});
  }
}
