package io.dsogym.envs.control;

import io.dsogym.env.DType;
import io.dsogym.env.Env;
import io.dsogym.env.EnvKwargs;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The inverted pendulum swing-up, step for step the same as Gymnasium 1.x {@code Pendulum-v1}
 * (gymnasium/envs/classic_control/pendulum.py).
 *
 * <p>A pendulum of mass {@link #MASS} and length {@link #LENGTH} hangs from a fixed pivot; the
 * goal is to swing it up and keep it upright (theta = 0) with a bounded torque.
 *
 * <p><b>Action space</b>: {@code Box(float32, [1])} in [-{@link #MAX_TORQUE}, {@link
 * #MAX_TORQUE}]: the torque (N m) applied at the pivot.
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
 * options {@code x_init} and {@code y_init} change those bounds, as in Gymnasium; option
 * {@code state} (theta, theta_dot) then overwrites the state exactly.
 *
 * <p><b>Termination</b>: never. <b>Truncation</b>: after {@link #MAX_EPISODE_STEPS} steps.
 *
 * <p>Kwargs: {@code g}, the gravitational acceleration (m/s^2, default 10.0). Randomness comes
 * from one {@link SplittableRandom} seeded by {@code reset(seed)}.
 */
public final class Pendulum implements Env {
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

  private static final Set<String> KWARGS = Set.of("g");
  private static final Set<String> OPTIONS = Set.of("x_init", "y_init", "state");

  private final EnvSpec spec;
  private final double g;

  private SplittableRandom rng;
  private boolean started;
  private double th;
  private double thdot;
  private int elapsedSteps;

  public Pendulum() {
    this(Map.of());
  }

  /** @param kwargs {@code g} (number, default 10.0) */
  public Pendulum(Map<String, Object> kwargs) {
    EnvKwargs.requireKnownKeys(kwargs, "kwargs", KWARGS);
    g = EnvKwargs.number(kwargs, "g", DEFAULT_GRAVITY, "kwargs.");
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
    double highX = EnvKwargs.number(opts, "x_init", DEFAULT_X, "options.");
    double highY = EnvKwargs.number(opts, "y_init", DEFAULT_Y, "options.");
    if (Math.abs(highY) > MAX_SPEED) {
      throw new IllegalArgumentException("options.y_init: expected |y_init| <= " + MAX_SPEED
          + " (the observation bound), got " + highY);
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
      rng = new SplittableRandom(seed);
    } else if (rng == null) {
      rng = new SplittableRandom();
    }
    // np_random.uniform(low=-high, high=high): low + (high - low) * U[0, 1)
    th = -highX + (highX - -highX) * rng.nextDouble();
    thdot = -highY + (highY - -highY) * rng.nextDouble();
    if (state != null) {
      th = state[0];
      thdot = state[1];
    }
    started = true;
    elapsedSteps = 0;
    return new ResetResult(observation(), Map.of());
  }

  @Override
  public StepResult step(Value action) {
    if (!started) {
      throw new IllegalStateException("step called before reset");
    }
    spec.actionSpace().check(action, "action");
    Tensor a = (Tensor) action;
    double torqueTerm;
    double torqueCost;
    if (a.dtype() == DType.FLOAT32) {
      // numpy 2 (NEP 50): python-float * float32 stays float32.
      float u = (float) Math.max(-MAX_TORQUE, Math.min(MAX_TORQUE, a.getDouble(0)));
      torqueCost = (float) 0.001 * (u * u);
      torqueTerm = (float) (3.0 / (MASS * LENGTH * LENGTH)) * u;
    } else {
      double u = Math.max(-MAX_TORQUE, Math.min(MAX_TORQUE, a.getDouble(0)));
      torqueCost = 0.001 * (u * u);
      torqueTerm = 3.0 / (MASS * LENGTH * LENGTH) * u;
    }
    double an = angleNormalize(th);
    double costs = an * an + 0.1 * (thdot * thdot) + torqueCost;

    double newthdot = thdot + (3 * g / (2 * LENGTH) * Math.sin(th) + torqueTerm) * DT;
    newthdot = Math.max(-MAX_SPEED, Math.min(MAX_SPEED, newthdot));
    double newth = th + newthdot * DT;
    th = newth;
    thdot = newthdot;

    elapsedSteps++;
    return new StepResult(observation(), -costs, false, elapsedSteps >= MAX_EPISODE_STEPS,
        Map.of());
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
