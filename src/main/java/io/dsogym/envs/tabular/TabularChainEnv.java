package io.dsogym.envs.tabular;

import io.dsogym.env.Env;
import io.dsogym.env.EnvKwargs;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.ParametricSystem;
import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A finite Markov decision process given by its tables: the exact oracle against which the DSO
 * engine checks its estimators (J and its gradient come from linear solves over these tables).
 *
 * <p><b>Observation space</b>: {@code Discrete(S)}: the state index as an int64 scalar.
 *
 * <p><b>Action space</b>: {@code Discrete(A)}.
 *
 * <p><b>Dynamics</b>: {@code s' ~ P[s][a][.]}. <b>Reward</b>: {@code r[s][a]} for taking a in
 * s. <b>Starting state</b>: {@code s0 ~ p0}.
 *
 * <p><b>Termination</b>: when s' is a terminal state. Stepping on from a terminal state
 * (without reset) follows P as usual and reports terminated again while the state stays
 * terminal. <b>Truncation</b>: after {@code max_episode_steps} steps.
 *
 * <p><b>Kwargs</b>: {@code transitions} P[s][a][s'] (every row sums to 1 within 1e-9),
 * {@code rewards} r[s][a], {@code initial} p0[s] (sums to 1, no mass on terminal states),
 * {@code terminal} (optional list of state indices), {@code max_episode_steps} (default 100).
 * transitions, rewards and initial come together; without them the env is the default
 * {@link #gridworld(int, int, double) gridworld(4, 4, 0.1)}, or with {@code random}
 * ({@code {"states": S, "actions": A, "seed": k}}) the {@link #randomKwargs random ergodic MDP}
 * of that seed: a continuing task whose average cost per step depends on the policy (the
 * gridworld's does not: every step before the goal costs 1). S x A x S is at most
 * {@link #MAX_RANDOM_TRANSITIONS}. Lanes made together ({@link #makeLanes}) share the tables.
 *
 * <p>Randomness comes from one {@link SplittableRandom} seeded by {@code reset(seed)}; each
 * draw is one uniform inverted through the cumulative row.
 *
 * <p><b>As a parametric system</b> (docs/math.md §10), φ is two blocks: {@code
 * transition_logits} (S·A·S values, [s][a][s'] row-major), with P[s][a][s'] ∝
 * exp(φ[s][a][s']) over the support of the given P (entries outside it stay at probability 0
 * and have no effect), and {@code rewards} (S·A values, r[s][a]). The initial φ reproduces the
 * given tables (logits ln P on the support).
 */
public final class TabularChainEnv implements Env, ParametricSystem {
  public static final String ID = "TabularChain-v0";
  public static final int DEFAULT_MAX_EPISODE_STEPS = 100;
  /** Tolerance on probability rows summing to one. */
  public static final double SUM_TOLERANCE = 1e-9;
  /** The most transition probabilities (S x A x S) of a {@code random} MDP: 8 MB a table. */
  public static final long MAX_RANDOM_TRANSITIONS = 1_000_000;
  /** Gridworld actions. */
  public static final int UP = 0;
  public static final int RIGHT = 1;
  public static final int DOWN = 2;
  public static final int LEFT = 3;

  private static final Set<String> KWARGS =
      Set.of("transitions", "rewards", "initial", "terminal", "max_episode_steps", "random");
  private static final Set<String> OPTIONS = Set.of("state");

  private final EnvSpec spec;
  private final int numStates;
  private final int numActions;
  // transitions, rewards, logits and transitionCdf change with the system parameters; lanes
  // made together (makeLanes) share them until one of them sets its own (ownTables).
  private double[][][] transitions;
  private double[][] rewards;
  /** Where the given P is positive: the support a parametric P keeps. */
  private final boolean[][][] support;
  /** The transition logits of φ (ln P on the support, 0 elsewhere). */
  private double[][][] logits;
  private final double[] initial;
  private final boolean[] terminal;
  private final int maxEpisodeSteps;
  /** Cumulative sums of the rows, for inverse-CDF sampling. */
  private double[][][] transitionCdf;
  private final double[] initialCdf;
  /** Whether the mutable tables are this lane's alone (false while shared with siblings). */
  private boolean ownTables = true;

  private SplittableRandom rng;
  private boolean started;
  private int state;
  private int elapsedSteps;

  /** The default 4 x 4 gridworld. */
  public TabularChainEnv() {
    this(Map.of());
  }

  public TabularChainEnv(Map<String, Object> kwargs) {
    EnvKwargs.requireKnownKeys(kwargs, "kwargs", KWARGS);
    Map<String, Object> mdp = kwargs;
    if (kwargs.containsKey("random")) {
      if (kwargs.containsKey("transitions")) {
        throw new IllegalArgumentException("kwargs.random: expected either random or "
            + "transitions, got both");
      }
      if (!(kwargs.get("random") instanceof Map<?, ?> r)) {
        throw new IllegalArgumentException("kwargs.random: expected an object {\"states\": S, "
            + "\"actions\": A, \"seed\": k}, got " + kwargs.get("random"));
      }
      EnvKwargs.requireKnownKeys(castMap(r), "kwargs.random", Set.of("states", "actions", "seed"));
      int states = EnvKwargs.integer(r.get("states"), "kwargs.random.states", 2, 10_000);
      int actions = EnvKwargs.integer(r.get("actions"), "kwargs.random.actions", 1, 1_000);
      long entries = (long) states * actions * states;
      if (entries > MAX_RANDOM_TRANSITIONS) {
        // A few bytes of kwargs must not ask for gigabytes of tables.
        throw new IllegalArgumentException("kwargs.random: expected states x actions x states "
            + "<= " + MAX_RANDOM_TRANSITIONS + " transition probabilities, got " + states
            + " x " + actions + " x " + states + " = " + entries);
      }
      mdp = randomKwargs(states, actions,
          r.containsKey("seed") ? EnvKwargs.integer(r.get("seed"), "kwargs.random.seed", 0,
              Integer.MAX_VALUE) : 0);
    } else if (!kwargs.containsKey("transitions")) {
      for (String key : List.of("rewards", "initial", "terminal")) {
        if (kwargs.containsKey(key)) {
          throw new IllegalArgumentException("kwargs." + key + ": given without "
              + "kwargs.transitions; give transitions, rewards and initial together");
        }
      }
      mdp = gridworldKwargs(4, 4, 0.1);
    } else {
      for (String key : List.of("rewards", "initial")) {
        if (!kwargs.containsKey(key)) {
          throw new IllegalArgumentException("kwargs." + key + ": required with "
              + "kwargs.transitions, got none");
        }
      }
    }
    transitions = parseTransitions(mdp.get("transitions"));
    numStates = transitions.length;
    numActions = transitions[0].length;
    rewards = EnvKwargs.matrix(mdp.get("rewards"), "kwargs.rewards", numStates, numActions);
    initial = EnvKwargs.vector(mdp.get("initial"), "kwargs.initial", numStates);
    requireDistribution(initial, "kwargs.initial");
    terminal = new boolean[numStates];
    if (mdp.containsKey("terminal")) {
      for (int s : EnvKwargs.integers(mdp.get("terminal"), "kwargs.terminal", 0,
          numStates - 1)) {
        terminal[s] = true;
      }
    }
    for (int s = 0; s < numStates; s++) {
      if (terminal[s] && initial[s] > 0) {
        throw new IllegalArgumentException("kwargs.initial[" + s + "]: expected 0 for a "
            + "terminal state, got " + initial[s]);
      }
    }
    maxEpisodeSteps = kwargs.containsKey("max_episode_steps")
        ? EnvKwargs.integer(kwargs.get("max_episode_steps"), "kwargs.max_episode_steps", 1,
            Integer.MAX_VALUE)
        : DEFAULT_MAX_EPISODE_STEPS;

    transitionCdf = new double[numStates][numActions][];
    support = new boolean[numStates][numActions][numStates];
    logits = new double[numStates][numActions][numStates];
    for (int s = 0; s < numStates; s++) {
      for (int a = 0; a < numActions; a++) {
        transitionCdf[s][a] = cumulative(transitions[s][a]);
        for (int y = 0; y < numStates; y++) {
          support[s][a][y] = transitions[s][a][y] > 0;
          logits[s][a][y] = support[s][a][y] ? Math.log(transitions[s][a][y]) : 0;
        }
      }
    }
    initialCdf = cumulative(initial);
    spec = new EnvSpec(ID, new Space.Discrete(numStates), new Space.Discrete(numActions),
        maxEpisodeSteps, null, Map.of(), EnvKwargs.toJson(kwargs));
  }

  /** A lane sharing every table of {@code prototype}, with its own state and random stream. */
  private TabularChainEnv(TabularChainEnv prototype) {
    spec = prototype.spec;
    numStates = prototype.numStates;
    numActions = prototype.numActions;
    transitions = prototype.transitions;
    rewards = prototype.rewards;
    support = prototype.support;
    logits = prototype.logits;
    initial = prototype.initial;
    terminal = prototype.terminal;
    maxEpisodeSteps = prototype.maxEpisodeSteps;
    transitionCdf = prototype.transitionCdf;
    initialCdf = prototype.initialCdf;
    ownTables = false;
    prototype.ownTables = false;
  }

  /**
   * {@code count} lanes made from the same kwargs, parsed and checked once: the lanes share
   * their tables (copy on write when one sets its system parameters).
   */
  public static List<Env> makeLanes(Map<String, Object> kwargs, int count) {
    TabularChainEnv first = new TabularChainEnv(kwargs);
    List<Env> lanes = new ArrayList<>(count);
    lanes.add(first);
    for (int i = 1; i < count; i++) {
      lanes.add(new TabularChainEnv(first));
    }
    return lanes;
  }

  /** Whether this lane still shares its transition tables with {@code other}. */
  boolean sharesTablesWith(TabularChainEnv other) {
    return transitions == other.transitions && support == other.support;
  }

  /** Gives this lane its own copies of the tables that setSystemParams writes. */
  private void copyTablesOnWrite() {
    if (ownTables) {
      return;
    }
    transitions = deepCopy(transitions);
    logits = deepCopy(logits);
    transitionCdf = deepCopy(transitionCdf);
    double[][] r = new double[numStates][];
    for (int s = 0; s < numStates; s++) {
      r[s] = rewards[s].clone();
    }
    rewards = r;
    ownTables = true;
  }

  private static double[][][] deepCopy(double[][][] t) {
    double[][][] out = new double[t.length][][];
    for (int i = 0; i < t.length; i++) {
      out[i] = new double[t[i].length][];
      for (int j = 0; j < t[i].length; j++) {
        out[i][j] = t[i][j].clone();
      }
    }
    return out;
  }

  /**
   * A rows x cols gridworld: state {@code row * cols + col}, start at state 0 (top left), the
   * goal {@code rows * cols - 1} (bottom right) terminal and absorbing with reward 0. Actions
   * {@link #UP}, {@link #RIGHT}, {@link #DOWN}, {@link #LEFT} move one cell, with probability
   * {@code slip} in a uniformly chosen other direction instead; a move off the grid stays put.
   * Reward -1 per step outside the goal.
   */
  public static TabularChainEnv gridworld(int rows, int cols, double slip) {
    return new TabularChainEnv(gridworldKwargs(rows, cols, slip));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> castMap(Map<?, ?> m) {
    return (Map<String, Object>) m;
  }

  /**
   * A random ergodic MDP (JSON-shaped kwargs): no terminal state, every row of P[s][a] drawn
   * from a flat Dirichlet over all S states (so every state reaches every other), rewards
   * uniform in [-1, 0], start uniform. Seeded, so a seed names one MDP.
   */
  public static Map<String, Object> randomKwargs(int states, int actions, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    List<Object> p = new ArrayList<>();
    List<Object> r = new ArrayList<>();
    List<Object> p0 = new ArrayList<>();
    for (int s = 0; s < states; s++) {
      List<Object> pa = new ArrayList<>();
      List<Object> ra = new ArrayList<>();
      for (int a = 0; a < actions; a++) {
        double[] row = new double[states];
        double sum = 0;
        for (int y = 0; y < states; y++) {
          row[y] = -Math.log(1 - rng.nextDouble());  // Exp(1): a flat Dirichlet once normalized
          sum += row[y];
        }
        List<Object> rowList = new ArrayList<>();
        for (double v : row) {
          rowList.add(v / sum);
        }
        pa.add(rowList);
        ra.add(-rng.nextDouble());
      }
      p.add(pa);
      r.add(ra);
      p0.add(1.0 / states);
    }
    Map<String, Object> kwargs = new LinkedHashMap<>();
    kwargs.put("transitions", p);
    kwargs.put("rewards", r);
    kwargs.put("initial", p0);
    return kwargs;
  }

  /** The kwargs of {@link #gridworld} (JSON-shaped lists), e.g. to send to a remote server. */
  public static Map<String, Object> gridworldKwargs(int rows, int cols, double slip) {
    if (rows < 1 || cols < 1 || rows * cols < 2) {
      throw new IllegalArgumentException("gridworld: expected at least 2 cells, got " + rows
          + "x" + cols);
    }
    if (!(slip >= 0 && slip <= 1)) {
      throw new IllegalArgumentException("gridworld slip: expected a probability in [0, 1], "
          + "got " + slip);
    }
    int numStates = rows * cols;
    int goal = numStates - 1;
    int[] dRow = {-1, 0, 1, 0};
    int[] dCol = {0, 1, 0, -1};
    List<Object> p = new ArrayList<>();
    List<Object> r = new ArrayList<>();
    List<Object> p0 = new ArrayList<>();
    for (int s = 0; s < numStates; s++) {
      int row = s / cols;
      int col = s % cols;
      List<Object> pa = new ArrayList<>();
      List<Object> ra = new ArrayList<>();
      for (int a = 0; a < 4; a++) {
        double[] next = new double[numStates];
        if (s == goal) {
          next[s] = 1.0;
        } else {
          for (int d = 0; d < 4; d++) {
            int nr = row + dRow[d];
            int nc = col + dCol[d];
            int target = nr < 0 || nr >= rows || nc < 0 || nc >= cols ? s : nr * cols + nc;
            next[target] += d == a ? 1 - slip : slip / 3;
          }
        }
        List<Object> row1 = new ArrayList<>();
        for (double v : next) {
          row1.add(v);
        }
        pa.add(row1);
        ra.add(s == goal ? 0.0 : -1.0);
      }
      p.add(pa);
      r.add(ra);
      p0.add(s == 0 ? 1.0 : 0.0);
    }
    Map<String, Object> kwargs = new LinkedHashMap<>();
    kwargs.put("transitions", p);
    kwargs.put("rewards", r);
    kwargs.put("initial", p0);
    kwargs.put("terminal", List.of((double) goal));
    return kwargs;
  }

  @Override
  public EnvSpec spec() {
    return spec;
  }

  @Override
  public ResetResult reset(Long seed, Map<String, Object> options) {
    Map<String, Object> opts = options == null ? Map.of() : options;
    EnvKwargs.requireKnownKeys(opts, "options", OPTIONS);
    int forced = -1;
    if (opts.containsKey("state")) {
      Object v = opts.get("state");
      if (v instanceof List<?> list && list.size() == 1) {
        v = list.get(0);
      }
      forced = EnvKwargs.integer(v, "options.state", 0, numStates - 1);
    }
    if (seed != null) {
      rng = new SplittableRandom(seed);
    } else if (rng == null) {
      rng = new SplittableRandom();
    }
    state = sample(initialCdf);
    if (forced >= 0) {
      state = forced;
    }
    started = true;
    elapsedSteps = 0;
    return new ResetResult(Tensor.scalarInt64(state), Map.of());
  }

  @Override
  public StepResult step(Value action) {
    if (!started) {
      throw new IllegalStateException("step called before reset");
    }
    spec.actionSpace().check(action, "action");
    int a = (int) ((Tensor) action).getLong(0);
    double reward = rewards[state][a];
    state = sample(transitionCdf[state][a]);
    elapsedSteps++;
    return new StepResult(Tensor.scalarInt64(state), reward, terminal[state],
        elapsedSteps >= maxEpisodeSteps, Map.of());
  }

  public int numStates() {
    return numStates;
  }

  public int numActions() {
    return numActions;
  }

  /** A copy of P[s][a][s']. */
  public double[][][] transitions() {
    double[][][] out = new double[numStates][numActions][];
    for (int s = 0; s < numStates; s++) {
      for (int a = 0; a < numActions; a++) {
        out[s][a] = transitions[s][a].clone();
      }
    }
    return out;
  }

  /** A copy of r[s][a]. */
  public double[][] rewards() {
    double[][] out = new double[numStates][];
    for (int s = 0; s < numStates; s++) {
      out[s] = rewards[s].clone();
    }
    return out;
  }

  /** A copy of p0[s]. */
  public double[] initialDistribution() {
    return initial.clone();
  }

  /** The terminal states, ascending. */
  public int[] terminalStates() {
    return java.util.stream.IntStream.range(0, numStates).filter(s -> terminal[s]).toArray();
  }

  public boolean isTerminal(int s) {
    return terminal[s];
  }

  /** The current state, for tests. */
  public int state() {
    return state;
  }

  @Override
  public List<ParamBlock> systemParamBlocks() {
    return List.of(new ParamBlock("transition_logits", numStates * numActions * numStates),
        new ParamBlock("rewards", numStates * numActions));
  }

  @Override
  public double[] systemParams() {
    int sas = numStates * numActions * numStates;
    double[] phi = new double[sas + numStates * numActions];
    for (int s = 0; s < numStates; s++) {
      for (int a = 0; a < numActions; a++) {
        System.arraycopy(logits[s][a], 0, phi, (s * numActions + a) * numStates, numStates);
        phi[sas + s * numActions + a] = rewards[s][a];
      }
    }
    return phi;
  }

  @Override
  public void setSystemParams(double[] phi) {
    int sas = numStates * numActions * numStates;
    int expected = sas + numStates * numActions;
    if (phi.length != expected) {
      throw new IllegalArgumentException("system params: expected " + expected + " values "
          + "(transition_logits " + sas + ", rewards " + numStates * numActions + "), got "
          + phi.length);
    }
    for (int i = 0; i < phi.length; i++) {
      if (!Double.isFinite(phi[i])) {
        throw new IllegalArgumentException("system params: expected finite values, got "
            + phi[i] + " in " + (i < sas ? "transition_logits" : "rewards") + " at "
            + (i < sas ? i : i - sas));
      }
    }
    copyTablesOnWrite();  // the tables may be shared with this lane's siblings
    for (int s = 0; s < numStates; s++) {
      for (int a = 0; a < numActions; a++) {
        int off = (s * numActions + a) * numStates;
        double max = Double.NEGATIVE_INFINITY;
        for (int y = 0; y < numStates; y++) {
          logits[s][a][y] = support[s][a][y] ? phi[off + y] : 0;
          if (support[s][a][y]) {
            max = Math.max(max, phi[off + y]);
          }
        }
        double sum = 0;
        for (int y = 0; y < numStates; y++) {
          transitions[s][a][y] = support[s][a][y] ? Math.exp(phi[off + y] - max) : 0;
          sum += transitions[s][a][y];
        }
        for (int y = 0; y < numStates; y++) {
          transitions[s][a][y] /= sum;
        }
        transitionCdf[s][a] = cumulative(transitions[s][a]);
        rewards[s][a] = phi[sas + s * numActions + a];
      }
    }
  }

  /** ln P(y|s,a,φ) = φ[s][a][y] − logsumexp over the support; its score e_y − P(·|s,a,φ). */
  @Override
  public double accumulateTransitionScore(double[] obs, int obsOff, double[] action,
      int actionOff, double[] nextObs, int nextOff, double[] phi, double weight, double[] grad,
      int gradOff) {
    int s = oneHotIndex(obs, obsOff, "obs");
    int a = actionIndex(action[actionOff]);
    int y = oneHotIndex(nextObs, nextOff, "next obs");
    if (!support[s][a][y]) {
      throw new IllegalArgumentException("transition " + s + " -(" + a + ")-> " + y + ": "
          + "expected a next state in the support of P[" + s + "][" + a + "], got one outside");
    }
    int off = (s * numActions + a) * numStates;
    double max = Double.NEGATIVE_INFINITY;
    for (int j = 0; j < numStates; j++) {
      if (support[s][a][j]) {
        max = Math.max(max, phi[off + j]);
      }
    }
    double sum = 0;
    for (int j = 0; j < numStates; j++) {
      if (support[s][a][j]) {
        sum += Math.exp(phi[off + j] - max);
      }
    }
    double logZ = max + Math.log(sum);
    if (grad != null && weight != 0) {
      for (int j = 0; j < numStates; j++) {
        if (support[s][a][j]) {
          grad[gradOff + off + j] -= weight * Math.exp(phi[off + j] - logZ);
        }
      }
      grad[gradOff + off + y] += weight;
    }
    return phi[off + y] - logZ;
  }

  @Override
  public double accumulateCostGradient(double[] obs, int obsOff, double[] action,
      int actionOff, double[] nextObs, int nextOff, double[] phi, double weight, double[] grad,
      int gradOff) {
    int s = oneHotIndex(obs, obsOff, "obs");
    int a = actionIndex(action[actionOff]);
    int i = numStates * numActions * numStates + s * numActions + a;
    if (grad != null) {
      grad[gradOff + i] -= weight;
    }
    return -phi[i];
  }

  private int oneHotIndex(double[] obs, int off, String field) {
    for (int s = 0; s < numStates; s++) {
      if (obs[off + s] == 1) {
        return s;
      }
    }
    throw new IllegalArgumentException(field + ": expected a one-hot vector of " + numStates
        + " states, got none set to 1");
  }

  private int actionIndex(double a) {
    if (a != Math.rint(a) || a < 0 || a >= numActions) {
      throw new IllegalArgumentException("action: expected an index in [0, " + numActions
          + "), got " + a);
    }
    return (int) a;
  }

  private int sample(double[] cdf) {
    double u = rng.nextDouble();
    int last = 0;
    for (int i = 0; i < cdf.length; i++) {
      double p = i == 0 ? cdf[0] : cdf[i] - cdf[i - 1];
      if (p > 0) {
        last = i;
        if (u < cdf[i]) {
          return i;
        }
      }
    }
    return last;  // u beyond a total a rounding error short of 1
  }

  private static double[] cumulative(double[] p) {
    double[] c = new double[p.length];
    double s = 0;
    for (int i = 0; i < p.length; i++) {
      s += p[i];
      c[i] = s;
    }
    return c;
  }

  private static double[][][] parseTransitions(Object value) {
    if (!(value instanceof List<?> || value instanceof double[][][])) {
      throw new IllegalArgumentException("kwargs.transitions: expected P[s][a][s'] as nested "
          + "lists, got " + (value == null ? "null" : value.getClass().getSimpleName()));
    }
    Object[] states = value instanceof double[][][] arr ? arr : ((List<?>) value).toArray();
    if (states.length == 0) {
      throw new IllegalArgumentException("kwargs.transitions: expected at least one state, "
          + "got none");
    }
    double[][][] p = new double[states.length][][];
    for (int s = 0; s < states.length; s++) {
      String field = "kwargs.transitions[" + s + "]";
      p[s] = EnvKwargs.matrix(states[s], field);
      if (p[s].length != p[0].length) {
        throw new IllegalArgumentException(field + ": expected " + p[0].length
            + " actions like state 0, got " + p[s].length);
      }
      for (int a = 0; a < p[s].length; a++) {
        if (p[s][a].length != states.length) {
          throw new IllegalArgumentException(field + "[" + a + "]: expected " + states.length
              + " next-state probabilities, got " + p[s][a].length);
        }
        requireDistribution(p[s][a], field + "[" + a + "]");
      }
    }
    return p;
  }

  private static void requireDistribution(double[] p, String field) {
    double sum = 0;
    for (int i = 0; i < p.length; i++) {
      if (p[i] < 0) {
        throw new IllegalArgumentException(field + "[" + i + "]: expected a probability >= 0, "
            + "got " + p[i]);
      }
      sum += p[i];
    }
    if (Math.abs(sum - 1) > SUM_TOLERANCE) {
      throw new IllegalArgumentException(field + ": expected probabilities summing to 1 "
          + "(within " + SUM_TOLERANCE + "), got " + sum);
    }
  }
}
