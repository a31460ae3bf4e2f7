package io.dsogym.envs.classic;

import io.dsogym.env.DType;
import io.dsogym.env.Env;
import io.dsogym.env.EnvKwargs;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The cart-pole problem of Barto, Sutton and Anderson (1983), step for step the same as
 * Gymnasium 1.x {@code CartPole-v1} (gymnasium/envs/classic_control/cartpole.py).
 *
 * <p>A pole is attached by an un-actuated joint to a cart moving along a frictionless track;
 * the goal is to keep the pole upright by pushing the cart left or right.
 *
 * <p><b>Action space</b>: {@code Discrete(2)}: 0 pushes the cart left with {@link #FORCE_MAG}
 * newtons, 1 pushes it right.
 *
 * <p><b>Observation space</b>: {@code Box(float32, [4])} holding cart position (m, bounds
 * +-4.8), cart velocity (m/s, unbounded), pole angle (rad, bounds +-0.418, i.e. 24 degrees)
 * and pole angular velocity (rad/s, unbounded). The state is kept in double precision, as
 * Gymnasium keeps a float64 numpy array; only the observation is rounded to float32.
 *
 * <p><b>Dynamics</b>: the equations of motion of the original pole.c integrated with explicit
 * Euler over {@link #TAU} seconds (Gymnasium's default {@code kinematics_integrator="euler"}).
 *
 * <p><b>Reward</b>: +1 for every step, including the terminating one; 0 for steps taken after
 * termination without a reset. With kwarg {@code sutton_barto_reward=true}: 0 per
 * non-terminating step and -1 for the terminating step and after.
 *
 * <p><b>Starting state</b>: every state variable uniform in (-0.05, 0.05). Reset options
 * {@code low} and {@code high} change those bounds, as in Gymnasium; option {@code state}
 * (four numbers) then overwrites the state exactly, to compare trajectories with Gymnasium.
 *
 * <p><b>Termination</b>: |x| > {@link #X_THRESHOLD} or |theta| > {@link
 * #THETA_THRESHOLD_RADIANS} (12 degrees). <b>Truncation</b>: after {@link
 * #MAX_EPISODE_STEPS} steps (Gymnasium's TimeLimit), also when the last step terminates.
 *
 * <p>Randomness comes from one {@link SplittableRandom} seeded by {@code reset(seed)}; the first
 * reset without a seed seeds it from a fresh random seed.
 */
public final class CartPole implements Env {
  public static final String ID = "CartPole-v1";
  public static final int MAX_EPISODE_STEPS = 500;
  public static final double REWARD_THRESHOLD = 475.0;

  /** Gravitational acceleration (m/s^2). */
  public static final double GRAVITY = 9.8;
  /** Mass of the cart (kg). */
  public static final double MASS_CART = 1.0;
  /** Mass of the pole (kg). */
  public static final double MASS_POLE = 0.1;
  /** Cart plus pole (kg). */
  public static final double TOTAL_MASS = MASS_POLE + MASS_CART;
  /** Half the pole's length (m): the distance from the joint to the pole's centre of mass. */
  public static final double HALF_POLE_LENGTH = 0.5;
  /** Pole mass times half length (kg m). */
  public static final double POLEMASS_LENGTH = MASS_POLE * HALF_POLE_LENGTH;
  /** Magnitude of the push (N). */
  public static final double FORCE_MAG = 10.0;
  /** Time between state updates (s). */
  public static final double TAU = 0.02;
  /** Pole angle beyond which the episode terminates (rad): 12 degrees. */
  public static final double THETA_THRESHOLD_RADIANS = 12 * 2 * Math.PI / 360;
  /** Cart position beyond which the episode terminates (m). */
  public static final double X_THRESHOLD = 2.4;

  private static final Set<String> KWARGS = Set.of("sutton_barto_reward");
  private static final Set<String> OPTIONS = Set.of("low", "high", "state");

  private final EnvSpec spec;
  private final boolean suttonBartoReward;

  private SplittableRandom rng;
  private boolean started;
  private double x;
  private double xDot;
  private double theta;
  private double thetaDot;
  private int elapsedSteps;
  /** Gymnasium's steps_beyond_terminated; -1 for None. */
  private int stepsBeyondTerminated = -1;

  public CartPole() {
    this(Map.of());
  }

  /** @param kwargs {@code sutton_barto_reward} (boolean, default false) */
  public CartPole(Map<String, Object> kwargs) {
    EnvKwargs.requireKnownKeys(kwargs, "kwargs", KWARGS);
    suttonBartoReward = kwargs.containsKey("sutton_barto_reward")
        && EnvKwargs.bool(kwargs.get("sutton_barto_reward"), "kwargs.sutton_barto_reward");
    // Gymnasium builds the bounds as a float32 array.
    double[] high = {(float) (X_THRESHOLD * 2), Double.POSITIVE_INFINITY,
        (float) (THETA_THRESHOLD_RADIANS * 2), Double.POSITIVE_INFINITY};
    double[] low = new double[4];
    for (int i = 0; i < 4; i++) {
      low[i] = -high[i];
    }
    spec = new EnvSpec(ID, new Space.Box(DType.FLOAT32, new int[] {4}, low, high),
        new Space.Discrete(2), MAX_EPISODE_STEPS, REWARD_THRESHOLD, Map.of(),
        EnvKwargs.toJson(kwargs));
  }

  @Override
  public EnvSpec spec() {
    return spec;
  }

  @Override
  public ResetResult reset(Long seed, Map<String, Object> options) {
    Map<String, Object> opts = options == null ? Map.of() : options;
    EnvKwargs.requireKnownKeys(opts, "options", OPTIONS);
    double low = EnvKwargs.number(opts, "low", -0.05, "options.");
    double high = EnvKwargs.number(opts, "high", 0.05, "options.");
    if (low > high) {
      throw new IllegalArgumentException("options.low: expected <= options.high (" + high
          + "), got " + low);
    }
    double[] state = null;
    if (opts.containsKey("state")) {
      state = EnvKwargs.vector(opts.get("state"), "options.state", 4);
      spec.observationSpace().check(observation(state), "options.state");
    }

    if (seed != null) {
      rng = new SplittableRandom(seed);
    } else if (rng == null) {
      rng = new SplittableRandom();
    }
    x = uniform(low, high);
    xDot = uniform(low, high);
    theta = uniform(low, high);
    thetaDot = uniform(low, high);
    if (state != null) {
      x = state[0];
      xDot = state[1];
      theta = state[2];
      thetaDot = state[3];
    }
    started = true;
    elapsedSteps = 0;
    stepsBeyondTerminated = -1;
    return new ResetResult(observation(), Map.of());
  }

  @Override
  public StepResult step(Value action) {
    if (!started) {
      throw new IllegalStateException("step called before reset");
    }
    spec.actionSpace().check(action, "action");
    double force = ((Tensor) action).getLong(0) == 1 ? FORCE_MAG : -FORCE_MAG;
    double costheta = Math.cos(theta);
    double sintheta = Math.sin(theta);

    // Same operation order as cartpole.py, so results agree to the last bit where the
    // platform's sin/cos do.
    double temp = (force + POLEMASS_LENGTH * (thetaDot * thetaDot) * sintheta) / TOTAL_MASS;
    double thetaacc = (GRAVITY * sintheta - costheta * temp)
        / (HALF_POLE_LENGTH * (4.0 / 3.0 - MASS_POLE * (costheta * costheta) / TOTAL_MASS));
    double xacc = temp - POLEMASS_LENGTH * thetaacc * costheta / TOTAL_MASS;

    x = x + TAU * xDot;
    xDot = xDot + TAU * xacc;
    theta = theta + TAU * thetaDot;
    thetaDot = thetaDot + TAU * thetaacc;

    boolean terminated = x < -X_THRESHOLD || x > X_THRESHOLD
        || theta < -THETA_THRESHOLD_RADIANS || theta > THETA_THRESHOLD_RADIANS;
    double reward;
    if (!terminated) {
      reward = suttonBartoReward ? 0.0 : 1.0;
    } else if (stepsBeyondTerminated < 0) {
      stepsBeyondTerminated = 0;
      reward = suttonBartoReward ? -1.0 : 1.0;
    } else {
      stepsBeyondTerminated++;
      reward = suttonBartoReward ? -1.0 : 0.0;
    }
    elapsedSteps++;
    boolean truncated = elapsedSteps >= MAX_EPISODE_STEPS;
    return new StepResult(observation(), reward, terminated, truncated, Map.of());
  }

  /** The state (x, x_dot, theta, theta_dot) in double precision, for tests. */
  public double[] state() {
    return new double[] {x, xDot, theta, thetaDot};
  }

  private double uniform(double low, double high) {
    return low + (high - low) * rng.nextDouble();
  }

  private Tensor observation() {
    return observation(new double[] {x, xDot, theta, thetaDot});
  }

  private static Tensor observation(double[] s) {
    return Tensor.ofFloat32(new int[] {4},
        new float[] {(float) s[0], (float) s[1], (float) s[2], (float) s[3]});
  }

  @Override
  public String toString() {
    return "CartPole(" + List.of(x, xDot, theta, thetaDot) + ")";
  }
}
