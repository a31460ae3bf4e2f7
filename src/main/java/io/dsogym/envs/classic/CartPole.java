package io.dsogym.envs.classic;

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
 * <p>Randomness comes from one {@link NumpyRandom} seeded by {@code reset(seed)}, numpy's
 * generator as Gymnasium seeds it, so {@code reset(seed=s)} starts from Gymnasium's initial
 * state bit for bit (and later resets without a seed continue its stream, as there); the first
 * reset without a seed seeds it from the OS.
 *
 * <p><b>Physical kwargs</b>: {@code gravity}, {@code masscart}, {@code masspole}, {@code length}
 * (half the pole's length) and {@code force_mag}, Gymnasium's attribute names, default to the
 * constants below; {@code process_noise} σ (default 0: Gymnasium's deterministic dynamics, no
 * random draw) adds N(0, σ²) to both velocities after each Euler step.
 *
 * <p><b>As a parametric system</b> (docs/math.md §10), φ is the blocks {@code gravity}, {@code
 * masscart}, {@code masspole}, {@code length} and {@code force_mag}, one value each, and needs
 * σ > 0: the next positions are functions of the state, so p(x'|x,a,φ) is the density of the
 * next velocities, N(f(x,a,φ), σ²I) with f the Euler velocity update; its score is
 * (v' − f)/σ² · ∂f/∂φ, with ∂f/∂φ in closed form. The cost (1 − reward) does not depend on φ.
 */
public final class CartPole implements Env, ParametricSystem {
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

  private static final Set<String> KWARGS = Set.of("sutton_barto_reward", "gravity",
      "masscart", "masspole", "length", "force_mag", "process_noise");
  private static final Set<String> OPTIONS = Set.of("low", "high", "state");

  private final EnvSpec spec;
  private final boolean suttonBartoReward;
  /** gravity, masscart, masspole, length, force_mag. */
  private final double[] physics;
  private final double processNoise;

  private NumpyRandom rng;
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

  /** @param kwargs {@code sutton_barto_reward} (boolean, default false) and the physical ones */
  public CartPole(Map<String, Object> kwargs) {
    EnvKwargs.requireKnownKeys(kwargs, "kwargs", KWARGS);
    suttonBartoReward = kwargs.containsKey("sutton_barto_reward")
        && EnvKwargs.bool(kwargs.get("sutton_barto_reward"), "kwargs.sutton_barto_reward");
    physics = new double[] {
        EnvKwargs.number(kwargs, "gravity", GRAVITY, "kwargs."),
        EnvKwargs.number(kwargs, "masscart", MASS_CART, "kwargs."),
        EnvKwargs.number(kwargs, "masspole", MASS_POLE, "kwargs."),
        EnvKwargs.number(kwargs, "length", HALF_POLE_LENGTH, "kwargs."),
        EnvKwargs.number(kwargs, "force_mag", FORCE_MAG, "kwargs.")};
    requirePhysical(physics, "kwargs.");
    processNoise = EnvKwargs.number(kwargs, "process_noise", 0.0, "kwargs.");
    if (!(processNoise >= 0) || !Double.isFinite(processNoise)) {
      throw new IllegalArgumentException("kwargs.process_noise: expected a finite number >= 0, "
          + "got " + processNoise);
    }
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
      rng = NumpyRandom.seeded(seed);
    } else if (rng == null) {
      rng = NumpyRandom.unseeded();
    }
    // np_random.uniform(low, high, size=(4,)), element by element.
    x = rng.uniform(low, high);
    xDot = rng.uniform(low, high);
    theta = rng.uniform(low, high);
    thetaDot = rng.uniform(low, high);
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
    double gravity = physics[0];
    double massPole = physics[2];
    double totalMass = physics[2] + physics[1];
    double length = physics[3];
    double polemassLength = massPole * length;
    double force = ((Tensor) action).getLong(0) == 1 ? physics[4] : -physics[4];
    double costheta = Math.cos(theta);
    double sintheta = Math.sin(theta);

    // Same operation order as cartpole.py, so results agree to the last bit where the
    // platform's sin/cos do.
    double temp = (force + polemassLength * (thetaDot * thetaDot) * sintheta) / totalMass;
    double thetaacc = (gravity * sintheta - costheta * temp)
        / (length * (4.0 / 3.0 - massPole * (costheta * costheta) / totalMass));
    double xacc = temp - polemassLength * thetaacc * costheta / totalMass;

    x = x + TAU * xDot;
    xDot = xDot + TAU * xacc;
    theta = theta + TAU * thetaDot;
    thetaDot = thetaDot + TAU * thetaacc;
    if (processNoise > 0) {
      xDot += processNoise * rng.nextGaussian();
      thetaDot += processNoise * rng.nextGaussian();
    }

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

  private static final List<String> PHYSICS =
      List.of("gravity", "masscart", "masspole", "length", "force_mag");

  private static void requirePhysical(double[] phi, String prefix) {
    for (int j = 0; j < phi.length; j++) {
      boolean positive = j > 0;  // masses, length and force must be > 0; gravity any finite
      if (!Double.isFinite(phi[j]) || (positive && !(phi[j] > 0))) {
        throw new IllegalArgumentException(prefix + PHYSICS.get(j) + ": expected a finite "
            + (positive ? "number > 0" : "number") + ", got " + phi[j]);
      }
    }
  }

  @Override
  public List<ParamBlock> systemParamBlocks() {
    return PHYSICS.stream().map(name -> new ParamBlock(name, 1)).toList();
  }

  @Override
  public double[] systemParams() {
    return physics.clone();
  }

  @Override
  public void setSystemParams(double[] phi) {
    if (phi.length != PHYSICS.size()) {
      throw new IllegalArgumentException("system params: expected " + PHYSICS.size()
          + " values " + PHYSICS + ", got " + phi.length);
    }
    requirePhysical(phi, "system params ");
    System.arraycopy(phi, 0, physics, 0, phi.length);
  }

  /**
   * ln N(v'; f, σ²I) for the velocities v' = (x_dot', theta_dot'), f = v + τ (xacc, thetaacc);
   * the accelerations' φ-derivatives follow the quotient and product rules through temp, the
   * denominator and the coupling k = m_p l cos(theta) / M.
   */
  @Override
  public double accumulateTransitionScore(double[] obs, int obsOff, double[] action,
      int actionOff, double[] nextObs, int nextOff, double[] phi, double weight, double[] grad,
      int gradOff) {
    if (processNoise <= 0) {
      throw new IllegalStateException("kwargs.process_noise: expected > 0 for a transition "
          + "density (deterministic dynamics have none), got " + processNoise);
    }
    double g = phi[0];
    double mc = phi[1];
    double mp = phi[2];
    double l = phi[3];
    double sign = action[actionOff] == 1 ? 1 : -1;
    double force = sign * phi[4];
    double m = mc + mp;
    double omega = obs[obsOff + 3];
    double s = Math.sin(obs[obsOff + 2]);
    double c = Math.cos(obs[obsOff + 2]);
    double temp = (force + mp * l * omega * omega * s) / m;
    double den = l * (4.0 / 3.0 - mp * c * c / m);
    double thetaAcc = (g * s - c * temp) / den;
    double k = mp * l * c / m;
    double xAcc = temp - k * thetaAcc;
    double r1 = nextObs[nextOff + 1] - (obs[obsOff + 1] + TAU * xAcc);
    double r2 = nextObs[nextOff + 3] - (omega + TAU * thetaAcc);
    double var = processNoise * processNoise;
    if (grad != null && weight != 0) {
      // ∂ over (g, mc, mp, l, F) of temp, den, the numerator g s − c temp and k
      double[] dTemp = {0, -temp / m, (l * omega * omega * s - temp) / m,
          mp * omega * omega * s / m, sign / m};
      double[] dDen = {0, l * mp * c * c / (m * m), -l * c * c * mc / (m * m),
          4.0 / 3.0 - mp * c * c / m, 0};
      double[] dK = {0, -mp * l * c / (m * m), l * c * mc / (m * m), mp * c / m, 0};
      for (int j = 0; j < 5; j++) {
        double dNum = (j == 0 ? s : 0) - c * dTemp[j];
        double dThetaAcc = (dNum - thetaAcc * dDen[j]) / den;
        double dXAcc = dTemp[j] - dK[j] * thetaAcc - k * dThetaAcc;
        grad[gradOff + j] += weight * TAU * (r1 * dXAcc + r2 * dThetaAcc) / var;
      }
    }
    return -0.5 * (r1 * r1 + r2 * r2) / var - 2 * Math.log(processNoise) - Math.log(2 * Math.PI);
  }

  /**
   * The negated reward: −1 per step, or with sutton_barto_reward 1 for entering a terminal
   * state.
   */
  @Override
  public double stepCost(double[] obs, int obsOff, double[] action, int actionOff,
      double[] nextObs, int nextOff, double[] phi) {
    if (!suttonBartoReward) {
      return -1.0;
    }
    double nx = nextObs[nextOff];
    double nt = nextObs[nextOff + 2];
    boolean terminal = nx < -X_THRESHOLD || nx > X_THRESHOLD || nt < -THETA_THRESHOLD_RADIANS
        || nt > THETA_THRESHOLD_RADIANS;
    return terminal ? 1.0 : 0.0;
  }

  @Override
  public double accumulateCostGradient(double[] obs, int obsOff, double[] action,
      int actionOff, double[] nextObs, int nextOff, double[] phi, double weight, double[] grad,
      int gradOff) {
    return stepCost(obs, obsOff, action, actionOff, nextObs, nextOff, phi);
  }

  /** The state (x, x_dot, theta, theta_dot) in double precision, for tests. */
  public double[] state() {
    return new double[] {x, xDot, theta, thetaDot};
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
