package io.dsogym.envs.control;

import io.dsogym.env.DType;
import io.dsogym.env.Env;
import io.dsogym.env.EnvKwargs;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.ParametricSystem;
import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A discrete-time linear system with quadratic cost and Gaussian process noise: the LQR
 * problem, whose optimal linear policy and exact policy gradient are known in closed form, so
 * it serves the DSO engine as an oracle.
 *
 * <p><b>Dynamics</b>: {@code x' = A x + B u + w}, {@code w ~ N(0, W)}, drawn as {@code L z}
 * with {@code W = L L^T} (Cholesky; a positive semi-definite W is allowed, W = 0 makes the
 * system deterministic) and {@code z} standard normal. n gaussians are drawn every step
 * whatever W is, so the random stream does not depend on W.
 *
 * <p><b>Observation space</b>: {@code Box(float64, [n])} unbounded: the state x itself.
 *
 * <p><b>Action space</b>: {@code Box(float64, [m])} unbounded: the control u.
 *
 * <p><b>Reward</b>: {@code -(x^T Q x + u^T R u)} for the state x before the step and the action
 * u taken in it.
 *
 * <p><b>Starting state</b>: {@code x0 ~ N(0, x0_std^2 I)}; reset option {@code state} (n
 * numbers) then overwrites it exactly.
 *
 * <p><b>Termination</b>: never. <b>Truncation</b>: after {@code max_episode_steps} steps.
 *
 * <p><b>Kwargs</b> (matrices as nested lists, rows first): {@code A} (n x n), {@code B} (n x m),
 * {@code Q} (n x n, symmetric positive semi-definite), {@code R} (m x m, symmetric positive
 * semi-definite), {@code W} (n x n, symmetric positive semi-definite), {@code x0_std} (>= 0,
 * default 1.0), {@code max_episode_steps} (default 200). The defaults are a double integrator
 * (position, velocity) driven by an acceleration with time step {@link #DEFAULT_DT} seconds:
 * {@code A = [[1, dt], [0, 1]]}, {@code B = [[dt^2 / 2], [dt]]}, {@code Q = I},
 * {@code R = 0.1 I}, {@code W = 0.01^2 I}.
 *
 * <p><b>Actuator design</b>: kwargs {@code actuator_gain} β (default 1) scales the input
 * matrix the system applies to β B, and {@code actuator_cost} c ≥ 0 (default 0) adds c β² to
 * every step's cost: a design parameter with a price (the mechanism-design experiment).
 *
 * <p><b>As a parametric system</b> (docs/math.md §10), φ is the blocks {@code A}, {@code B},
 * {@code Q} (row-major) and {@code actuator_gain}: ln p(x'|x,u,φ) is the Gaussian
 * N(Ax + βBu, W) density (W must then be positive definite), with score ∂/∂A_ij = (W⁻¹r)_i x_j,
 * ∂/∂B_ij = (W⁻¹r)_i β u_j and ∂/∂β = (W⁻¹r)ᵀ B u for r = x' − Ax − βBu; the cost's gradient
 * is ∂ℓ/∂Q_ij = x_i x_j and ∂ℓ/∂β = 2cβ.
 */
public final class LinearQuadraticRegulator implements Env, ParametricSystem {
  public static final String ID = "LQR-v0";
  public static final int DEFAULT_MAX_EPISODE_STEPS = 200;
  /** Time step of the default double integrator (s). */
  public static final double DEFAULT_DT = 0.1;
  /** Default standard deviation of each initial state coordinate. */
  public static final double DEFAULT_X0_STD = 1.0;
  /** Default standard deviation of each process noise coordinate. */
  public static final double DEFAULT_NOISE_STD = 0.01;

  private static final Set<String> KWARGS = Set.of("A", "B", "Q", "R", "W", "x0_std",
      "max_episode_steps", "actuator_gain", "actuator_cost");
  private static final Set<String> OPTIONS = Set.of("state");

  /**
   * What every lane made from the same kwargs shares, immutable: the parsed matrices, the
   * noise factorization and the spec. A vector of N lanes holds one of these, not N copies
   * ({@link #makeLanes}); a lane whose system parameters are set gets its own A, B and Q.
   */
  private static final class Model {
    final EnvSpec spec;
    final int n;
    final int m;
    final double[][] a;
    final double[][] b;
    final double[][] q;
    final double[][] r;
    final double[][] w;
    /** Lower-triangular L with W = L L^T. */
    final double[][] noiseFactor;
    final double x0Std;
    final int maxEpisodeSteps;
    final double actuatorGain;
    final double actuatorCost;

    Model(Map<String, Object> kwargs) {
      EnvKwargs.requireKnownKeys(kwargs, "kwargs", KWARGS);
      double dt = DEFAULT_DT;
      a = kwargs.containsKey("A") ? EnvKwargs.matrix(kwargs.get("A"), "kwargs.A")
          : new double[][] {{1, dt}, {0, 1}};
      n = a.length;
      if (a[0].length != n) {
        throw new IllegalArgumentException("kwargs.A: expected a square matrix, got " + n + "x"
            + a[0].length);
      }
      b = kwargs.containsKey("B") ? EnvKwargs.matrix(kwargs.get("B"), "kwargs.B")
          : kwargs.containsKey("A") ? null : new double[][] {{0.5 * dt * dt}, {dt}};
      if (b == null) {
        throw new IllegalArgumentException("kwargs.B: expected B (n x m) when A is given, got "
            + "none");
      }
      if (b.length != n) {
        throw new IllegalArgumentException("kwargs.B: expected " + n + " rows (the size of A), "
            + "got " + b.length);
      }
      m = b[0].length;
      q = kwargs.containsKey("Q") ? EnvKwargs.matrix(kwargs.get("Q"), "kwargs.Q", n, n)
          : scaledIdentity(n, 1.0);
      r = kwargs.containsKey("R") ? EnvKwargs.matrix(kwargs.get("R"), "kwargs.R", m, m)
          : scaledIdentity(m, 0.1);
      w = kwargs.containsKey("W") ? EnvKwargs.matrix(kwargs.get("W"), "kwargs.W", n, n)
          : scaledIdentity(n, DEFAULT_NOISE_STD * DEFAULT_NOISE_STD);
      psdCholesky(q, "kwargs.Q");
      psdCholesky(r, "kwargs.R");
      noiseFactor = psdCholesky(w, "kwargs.W");
      x0Std = EnvKwargs.number(kwargs, "x0_std", DEFAULT_X0_STD, "kwargs.");
      if (x0Std < 0) {
        throw new IllegalArgumentException("kwargs.x0_std: expected >= 0, got " + x0Std);
      }
      maxEpisodeSteps = kwargs.containsKey("max_episode_steps")
          ? EnvKwargs.integer(kwargs.get("max_episode_steps"), "kwargs.max_episode_steps", 1,
              Integer.MAX_VALUE)
          : DEFAULT_MAX_EPISODE_STEPS;
      actuatorGain = EnvKwargs.number(kwargs, "actuator_gain", 1.0, "kwargs.");
      actuatorCost = EnvKwargs.number(kwargs, "actuator_cost", 0.0, "kwargs.");
      if (!Double.isFinite(actuatorGain)) {
        throw new IllegalArgumentException("kwargs.actuator_gain: expected a finite number, "
            + "got " + actuatorGain);
      }
      if (!(actuatorCost >= 0) || !Double.isFinite(actuatorCost)) {
        throw new IllegalArgumentException("kwargs.actuator_cost: expected a finite number >= "
            + "0, got " + actuatorCost);
      }
      double inf = Double.POSITIVE_INFINITY;
      spec = new EnvSpec(ID, Space.Box.uniform(DType.FLOAT64, new int[] {n}, -inf, inf),
          Space.Box.uniform(DType.FLOAT64, new int[] {m}, -inf, inf), maxEpisodeSteps, null,
          Map.of(), EnvKwargs.toJson(kwargs));
    }
  }

  private final Model model;
  private final EnvSpec spec;
  private final int n;
  private final int m;
  // A, B and Q start as the model's (shared, never written); setSystemParams replaces them
  // with this lane's own arrays.
  private double[][] a;
  private double[][] b;
  private double[][] q;
  private final double[][] r;
  private final double[][] w;
  /** Lower-triangular L with W = L L^T. */
  private final double[][] noiseFactor;
  private final double x0Std;
  private final int maxEpisodeSteps;
  /** β: the input matrix the system applies is β B (a design parameter, default 1). */
  private double actuatorGain;
  /** c: the actuator's cost c β² per step, added to the step cost (default 0). */
  private final double actuatorCost;

  private SplittableRandom rng;
  private boolean started;
  private final double[] x;
  private final double[] next;
  private final double[] z;
  private final double[] u;
  private int elapsedSteps;

  public LinearQuadraticRegulator() {
    this(Map.of());
  }

  public LinearQuadraticRegulator(Map<String, Object> kwargs) {
    this(new Model(kwargs));
  }

  private LinearQuadraticRegulator(Model model) {
    this.model = model;
    spec = model.spec;
    n = model.n;
    m = model.m;
    a = model.a;
    b = model.b;
    q = model.q;
    r = model.r;
    w = model.w;
    noiseFactor = model.noiseFactor;
    x0Std = model.x0Std;
    maxEpisodeSteps = model.maxEpisodeSteps;
    actuatorGain = model.actuatorGain;
    actuatorCost = model.actuatorCost;
    x = new double[n];
    next = new double[n];
    z = new double[n];
    u = new double[m];
  }

  /**
   * {@code count} lanes made from the same kwargs, parsed, checked and factorized once: the
   * lanes share the matrices and the spec, and each keeps only its state and random stream.
   */
  public static List<Env> makeLanes(Map<String, Object> kwargs, int count) {
    Model model = new Model(kwargs);
    List<Env> lanes = new java.util.ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      lanes.add(new LinearQuadraticRegulator(model));
    }
    return lanes;
  }

  /** Whether this lane still uses the matrices it was made with, shared with its siblings. */
  boolean sharesModelWith(LinearQuadraticRegulator other) {
    return model == other.model && a == other.a && noiseFactor == other.noiseFactor;
  }

  @Override
  public EnvSpec spec() {
    return spec;
  }

  @Override
  public ResetResult reset(Long seed, Map<String, Object> options) {
    Map<String, Object> opts = options == null ? Map.of() : options;
    EnvKwargs.requireKnownKeys(opts, "options", OPTIONS);
    double[] state = opts.containsKey("state")
        ? EnvKwargs.vector(opts.get("state"), "options.state", n) : null;
    if (seed != null) {
      rng = new SplittableRandom(seed);
    } else if (rng == null) {
      rng = new SplittableRandom();
    }
    for (int i = 0; i < n; i++) {
      x[i] = x0Std * rng.nextGaussian();
    }
    if (state != null) {
      System.arraycopy(state, 0, x, 0, n);
    }
    started = true;
    elapsedSteps = 0;
    return new ResetResult(Tensor.ofFloat64(new int[] {n}, x), Map.of());
  }

  @Override
  public StepResult step(Value action) {
    if (!started) {
      throw new IllegalStateException("step called before reset");
    }
    spec.actionSpace().check(action, "action");
    ((Tensor) action).copyTo(u, 0);
    double reward = -(quadraticForm(q, x) + quadraticForm(r, u) + designCost());
    for (int i = 0; i < n; i++) {
      z[i] = rng.nextGaussian();
    }
    for (int i = 0; i < n; i++) {
      double s = 0;
      for (int j = 0; j < n; j++) {
        s += a[i][j] * x[j];
      }
      for (int j = 0; j < m; j++) {
        s += actuatorGain * b[i][j] * u[j];
      }
      for (int j = 0; j <= i; j++) {
        s += noiseFactor[i][j] * z[j];
      }
      next[i] = s;
    }
    System.arraycopy(next, 0, x, 0, n);
    elapsedSteps++;
    return new StepResult(Tensor.ofFloat64(new int[] {n}, x), reward, false,
        elapsedSteps >= maxEpisodeSteps, Map.of());
  }

  @Override
  public List<ParamBlock> systemParamBlocks() {
    return List.of(new ParamBlock("A", n * n), new ParamBlock("B", n * m),
        new ParamBlock("Q", n * n), new ParamBlock("actuator_gain", 1));
  }

  @Override
  public double[] systemParams() {
    double[] phi = new double[2 * n * n + n * m + 1];
    for (int i = 0; i < n; i++) {
      System.arraycopy(a[i], 0, phi, i * n, n);
      System.arraycopy(b[i], 0, phi, n * n + i * m, m);
      System.arraycopy(q[i], 0, phi, n * n + n * m + i * n, n);
    }
    phi[phi.length - 1] = actuatorGain;
    return phi;
  }

  /**
   * The cost xᵀQx sees only Q's symmetric part, so any Q is accepted whose symmetric part is
   * positive semi-definite (the cost is then bounded below); the env keeps that symmetric
   * part, which {@link #systemParams} returns.
   */
  @Override
  public void setSystemParams(double[] phi) {
    int expected = 2 * n * n + n * m + 1;
    if (phi.length != expected) {
      throw new IllegalArgumentException("system params: expected " + expected + " values (A "
          + n * n + ", B " + n * m + ", Q " + n * n + ", actuator_gain 1), got " + phi.length);
    }
    for (int i = 0; i < phi.length; i++) {
      if (!Double.isFinite(phi[i])) {
        throw new IllegalArgumentException("system params: expected finite values, got "
            + phi[i] + " at " + i);
      }
    }
    double[][] newQ = new double[n][n];
    int qOff = n * n + n * m;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        newQ[i][j] = 0.5 * (phi[qOff + i * n + j] + phi[qOff + j * n + i]);
      }
    }
    psdCholesky(newQ, "system params Q (its symmetric part)");
    // Fresh arrays: the old ones may be shared with this lane's siblings.
    double[][] newA = new double[n][n];
    double[][] newB = new double[n][m];
    for (int i = 0; i < n; i++) {
      System.arraycopy(phi, i * n, newA[i], 0, n);
      System.arraycopy(phi, n * n + i * m, newB[i], 0, m);
    }
    a = newA;
    b = newB;
    q = newQ;
    actuatorGain = phi[expected - 1];
  }

  @Override
  public double accumulateTransitionScore(double[] obs, int obsOff, double[] action,
      int actionOff, double[] nextObs, int nextOff, double[] phi, double weight, double[] grad,
      int gradOff) {
    double gain = phi[2 * n * n + n * m];
    double[] resid = new double[n];
    for (int i = 0; i < n; i++) {
      double mean = 0;
      for (int j = 0; j < n; j++) {
        mean += phi[i * n + j] * obs[obsOff + j];
      }
      for (int j = 0; j < m; j++) {
        mean += gain * phi[n * n + i * m + j] * action[actionOff + j];
      }
      resid[i] = nextObs[nextOff + i] - mean;
    }
    // W⁻¹ resid through W = L Lᵀ: solve L y = resid, then Lᵀ s = y; residᵀW⁻¹resid = |y|².
    double[][] l = noiseFactor;
    double[] y = new double[n];
    double logDet = 0;
    for (int i = 0; i < n; i++) {
      if (l[i][i] == 0) {
        throw new IllegalStateException("kwargs.W: expected a positive definite noise "
            + "covariance for a transition density, got a singular one (zero pivot at row "
            + i + ")");
      }
      double v = resid[i];
      for (int j = 0; j < i; j++) {
        v -= l[i][j] * y[j];
      }
      y[i] = v / l[i][i];
      logDet += 2 * Math.log(l[i][i]);
    }
    double quad = 0;
    for (double v : y) {
      quad += v * v;
    }
    if (grad != null && weight != 0) {
      double[] sol = new double[n];
      for (int i = n - 1; i >= 0; i--) {
        double v = y[i];
        for (int j = i + 1; j < n; j++) {
          v -= l[j][i] * sol[j];
        }
        sol[i] = v / l[i][i];
      }
      for (int i = 0; i < n; i++) {
        double bu = 0;
        for (int j = 0; j < n; j++) {
          grad[gradOff + i * n + j] += weight * sol[i] * obs[obsOff + j];
        }
        for (int j = 0; j < m; j++) {
          grad[gradOff + n * n + i * m + j] += weight * sol[i] * gain * action[actionOff + j];
          bu += phi[n * n + i * m + j] * action[actionOff + j];
        }
        grad[gradOff + 2 * n * n + n * m] += weight * sol[i] * bu;
      }
    }
    return -0.5 * (quad + logDet + n * Math.log(2 * Math.PI));
  }

  @Override
  public double accumulateCostGradient(double[] obs, int obsOff, double[] action,
      int actionOff, double[] nextObs, int nextOff, double[] phi, double weight, double[] grad,
      int gradOff) {
    int qOff = n * n + n * m;
    double cost = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double xx = obs[obsOff + i] * obs[obsOff + j];
        cost += phi[qOff + i * n + j] * xx;
        if (grad != null) {
          grad[gradOff + qOff + i * n + j] += weight * xx;
        }
      }
    }
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        cost += r[i][j] * action[actionOff + i] * action[actionOff + j];
      }
    }
    double gain = phi[2 * n * n + n * m];
    cost += actuatorCost * gain * gain;
    if (grad != null) {
      grad[gradOff + 2 * n * n + n * m] += weight * 2 * actuatorCost * gain;
    }
    return cost;
  }

  public int stateDim() {
    return n;
  }

  public int actionDim() {
    return m;
  }

  /** A copy of the state transition matrix A (n x n). */
  public double[][] getA() {
    return deepCopy(a);
  }

  /** A copy of the input matrix the system applies, β B (n x m; B itself when β = 1). */
  public double[][] getB() {
    double[][] out = deepCopy(b);
    for (double[] row : out) {
      for (int j = 0; j < m; j++) {
        row[j] *= actuatorGain;
      }
    }
    return out;
  }

  /** The actuator's cost per step, c β² (0 unless kwargs.actuator_cost is set). */
  public double designCost() {
    return actuatorCost * actuatorGain * actuatorGain;
  }

  /** A copy of the state cost Q (n x n). */
  public double[][] getQ() {
    return deepCopy(q);
  }

  /** A copy of the control cost R (m x m). */
  public double[][] getR() {
    return deepCopy(r);
  }

  /** A copy of the process noise covariance W (n x n). */
  public double[][] getW() {
    return deepCopy(w);
  }

  public double getX0Std() {
    return x0Std;
  }

  /** The current state x, for tests. */
  public double[] state() {
    return x.clone();
  }

  private static double quadraticForm(double[][] mat, double[] v) {
    double s = 0;
    for (int i = 0; i < v.length; i++) {
      double row = 0;
      for (int j = 0; j < v.length; j++) {
        row += mat[i][j] * v[j];
      }
      s += v[i] * row;
    }
    return s;
  }

  /**
   * Cholesky factor L (M = L L^T) of a symmetric positive semi-definite matrix: a zero pivot
   * gives a zero column, so singular covariances (W = 0) are allowed.
   *
   * @throws IllegalArgumentException naming {@code field} when M is not symmetric or not PSD
   */
  static double[][] psdCholesky(double[][] mat, String field) {
    int k = mat.length;
    double scale = 0;
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        scale = Math.max(scale, Math.abs(mat[i][j]));
      }
    }
    double tol = 1e-12 * Math.max(scale, Double.MIN_NORMAL);
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < i; j++) {
        if (Math.abs(mat[i][j] - mat[j][i]) > tol) {
          throw new IllegalArgumentException(field + ": expected a symmetric matrix, got ["
              + i + "][" + j + "] = " + mat[i][j] + " and [" + j + "][" + i + "] = "
              + mat[j][i]);
        }
      }
    }
    double[][] l = new double[k][k];
    for (int j = 0; j < k; j++) {
      double d = mat[j][j];
      for (int p = 0; p < j; p++) {
        d -= l[j][p] * l[j][p];
      }
      if (d < -tol) {
        throw new IllegalArgumentException(field + ": expected a positive semi-definite "
            + "matrix, got a negative pivot " + d + " at row " + j);
      }
      if (d <= tol) {
        for (int i = j + 1; i < k; i++) {
          double s = mat[i][j];
          for (int p = 0; p < j; p++) {
            s -= l[i][p] * l[j][p];
          }
          if (Math.abs(s) > Math.sqrt(tol) * Math.max(1.0, Math.sqrt(scale))) {
            throw new IllegalArgumentException(field + ": expected a positive semi-definite "
                + "matrix, got a zero pivot at row " + j + " with coupling " + s + " to row "
                + i);
          }
        }
        continue;
      }
      l[j][j] = Math.sqrt(d);
      for (int i = j + 1; i < k; i++) {
        double s = mat[i][j];
        for (int p = 0; p < j; p++) {
          s -= l[i][p] * l[j][p];
        }
        l[i][j] = s / l[j][j];
      }
    }
    return l;
  }

  private static double[][] scaledIdentity(int k, double v) {
    double[][] out = new double[k][k];
    for (int i = 0; i < k; i++) {
      out[i][i] = v;
    }
    return out;
  }

  private static double[][] deepCopy(double[][] mat) {
    double[][] out = new double[mat.length][];
    for (int i = 0; i < mat.length; i++) {
      out[i] = mat[i].clone();
    }
    return out;
  }
}
