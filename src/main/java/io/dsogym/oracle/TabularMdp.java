package io.dsogym.oracle;

import io.dsogym.envs.tabular.TabularChainEnv;
import io.dsogym.linalg.Shapes;
import io.dsogym.linalg.Vectors;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A finite MDP given by its tables, with exact objectives of stationary stochastic policies.
 *
 * <p>States {@code 0..n-1}, actions {@code 0..m-1}; P(s'|s,a) = {@code transitions[s][a][s']},
 * the cost c(s,a) = {@code costs[s][a]} (J is a cost: for a Gymnasium env, c = −reward,
 * docs/math.md "Notation"), the start s0 ~ {@code initial}, and a terminal set. A policy is a
 * table {@code policy[s][a]} = π(a|s); rows of terminal states are ignored. The cost of a step
 * belongs to the transition (s, a) → s', as in {@link TabularChainEnv}.
 *
 * <p>Two settings (docs/math.md §1a, §1b):
 * <ul>
 *   <li><b>Discounted / first exit.</b> J(π) = E_{s0~p0} Σ_{t<τ} γ^t c(s_t,a_t), τ the first
 *       time a terminal state is entered; terminal states have V = 0 (the Gymnasium
 *       convention: {@code terminated} means V(x') = 0). V solves the linear Bellman system
 *       (I − γP_π)V = c_π on the non-terminal states. The env's time limit is not part of
 *       this objective: a truncated episode would be bootstrapped with V (docs/math.md
 *       "Notation"), so the time limit does not change J.
 *   <li><b>Average cost through resets.</b> A transition into a terminal state is followed at
 *       once by s0 ~ p0, the terminal state is never occupied, and the chain lives on the
 *       non-terminal states with P̃(s'|s) = P_π(s'|s) + P_π(𝒯|s) p0(s'). J = Σ_s d(s) c_π(s),
 *       d the stationary law of P̃ on the states reachable from p0. The env's time limit would
 *       make the state (s, t), so it is not part of this model either.
 * </ul>
 * All results are exact up to the round-off of dense LU solves (no sampling, no iteration to
 * a tolerance other than policy iteration's finite termination). Instances are immutable.
 */
public final class TabularMdp {
  /** Tolerance on probability rows summing to one (that of {@link TabularChainEnv}). */
  static final double SUM_TOLERANCE = 1e-9;
  /** Relative margin by which a policy-iteration step must improve to switch action. */
  private static final double IMPROVEMENT_TOLERANCE = 1e-12;
  private static final int MAX_POLICY_ITERATIONS = 100_000;

  private final int n;
  private final int m;
  private final double[] initial;
  private final double[][][] transitions;
  private final double[][] costs;
  private final boolean[] terminal;

  /**
   * @param initial p0[s], a distribution with no mass on terminal states
   * @param transitions P[s][a][s'], every row a distribution (within 1e-9)
   * @param costs c[s][a], finite
   * @param terminal the terminal set as a mask (rows of terminal states are never used)
   * @throws IllegalArgumentException naming the field when a shape or a value is wrong
   */
  public TabularMdp(double[] initial, double[][][] transitions, double[][] costs,
      boolean[] terminal) {
    if (transitions == null || transitions.length == 0) {
      throw new IllegalArgumentException("transitions: expected P[s][a][s'] with at least one "
          + "state, got " + (transitions == null ? "null" : "none"));
    }
    this.n = transitions.length;
    if (transitions[0] == null || transitions[0].length == 0) {
      throw new IllegalArgumentException("transitions[0]: expected at least one action, got "
          + (transitions[0] == null ? "null" : "none"));
    }
    this.m = transitions[0].length;
    Shapes.length("initial", initial, n);
    Shapes.tensor3("transitions", transitions, n, m, n);
    Shapes.matrix("costs", costs, n, m);
    if (terminal == null || terminal.length != n) {
      throw new IllegalArgumentException("terminal: expected length " + n + ", got "
          + (terminal == null ? "null" : terminal.length));
    }
    requireDistribution("initial", initial);
    for (int s = 0; s < n; s++) {
      for (int a = 0; a < m; a++) {
        requireDistribution("transitions[" + s + "][" + a + "]", transitions[s][a]);
        if (!Double.isFinite(costs[s][a])) {
          throw new IllegalArgumentException("costs[" + s + "][" + a + "]: expected a finite "
              + "number, got " + costs[s][a]);
        }
      }
      if (terminal[s] && initial[s] > 0) {
        throw new IllegalArgumentException("initial[" + s + "]: expected 0 for a terminal "
            + "state, got " + initial[s]);
      }
    }
    this.initial = initial.clone();
    this.transitions = new double[n][m][];
    this.costs = new double[n][];
    for (int s = 0; s < n; s++) {
      this.costs[s] = costs[s].clone();
      for (int a = 0; a < m; a++) {
        this.transitions[s][a] = transitions[s][a].clone();
      }
    }
    this.terminal = terminal.clone();
  }

  /** The tables of a {@link TabularChainEnv}, with costs = −rewards. */
  public static TabularMdp of(TabularChainEnv env) {
    double[][] rewards = env.rewards();
    double[][] costs = new double[rewards.length][];
    for (int s = 0; s < rewards.length; s++) {
      costs[s] = new double[rewards[s].length];
      for (int a = 0; a < costs[s].length; a++) {
        costs[s][a] = -rewards[s][a];
      }
    }
    boolean[] terminal = new boolean[env.numStates()];
    for (int s = 0; s < terminal.length; s++) {
      terminal[s] = env.isTerminal(s);
    }
    return new TabularMdp(env.initialDistribution(), env.transitions(), costs, terminal);
  }

  public int numStates() {
    return n;
  }

  public int numActions() {
    return m;
  }

  // ---------------------------------------------------------------- discounted / first exit

  /**
   * Discounted J(π) = E_{s0~p0} Σ_t γ^t c(s_t,a_t) until a terminal state is entered (terminal
   * states have V = 0: they are absorbing and free). {@code policy[s][a]} rows sum to 1 (rows
   * of terminal states are ignored). 0 &lt; γ &lt; 1, or γ = 1 when the policy terminates from
   * every state (checked on the policy's transition graph; otherwise an
   * IllegalArgumentException names a state from which no terminal state is reachable).
   */
  public double discountedObjective(double[][] policy, double gamma) {
    return Vectors.dot(initial, discountedValues(policy, gamma));
  }

  /**
   * V(s) for every state (0 on terminal states): the solution of V = c_π + γ P_π V on the
   * non-terminal states.
   */
  public double[] discountedValues(double[][] policy, double gamma) {
    requireGamma(gamma);
    checkPolicy(policy);
    return values(closedLoop(policy), closedLoopCost(policy), gamma);
  }

  /**
   * min over policies of the discounted J, by exact policy iteration (Howard): evaluate the
   * current deterministic policy by a linear solve, switch each state to an action whose
   * Q(s,a) = c(s,a) + γ Σ P(s'|s,a) V(s') is lower by more than a relative 1e-12 (else keep
   * the action, so the iteration cannot cycle on round-off), stop when nothing switches. A
   * deterministic stationary policy is optimal, and policy iteration reaches one in finitely
   * many steps. γ = 1 starts from a proper policy (built backwards from the terminal set) and
   * assumes, as the stochastic-shortest-path theory does, that improper policies cannot be
   * cheaper (e.g. every policy terminates, or costs are positive); a non-terminating policy
   * met on the way fails with a clear error.
   */
  public double optimalDiscountedObjective(double gamma) {
    requireGamma(gamma);
    int[] act = gamma < 1 ? new int[n] : properPolicy();
    for (int iteration = 0; iteration < MAX_POLICY_ITERATIONS; iteration++) {
      double[] v;
      try {
        v = values(closedLoop(deterministic(act)), closedLoopCost(deterministic(act)), gamma);
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException("optimalDiscountedObjective(gamma = 1): policy "
            + "iteration reached a policy that does not terminate; the first-exit optimum "
            + "needs improper policies to be no cheaper (" + e.getMessage() + ")", e);
      }
      boolean changed = false;
      for (int s = 0; s < n; s++) {
        if (terminal[s]) {
          continue;
        }
        double[] q = new double[m];
        double scale = 1;
        for (int a = 0; a < m; a++) {
          q[a] = costs[s][a] + gamma * Vectors.dot(transitions[s][a], v);
          scale = Math.max(scale, Math.abs(q[a]));
        }
        int best = act[s];
        for (int a = 0; a < m; a++) {
          if (q[a] < q[best] - IMPROVEMENT_TOLERANCE * scale) {
            best = a;
          }
        }
        if (best != act[s]) {
          act[s] = best;
          changed = true;
        }
      }
      if (!changed) {
        return Vectors.dot(initial, v);
      }
    }
    throw new IllegalStateException("optimalDiscountedObjective: policy iteration did not "
        + "terminate in " + MAX_POLICY_ITERATIONS + " iterations");
  }

  private double[] values(double[][] p, double[] c, double gamma) {
    if (gamma == 1) {
      requireTermination(p);
    }
    double[][] a = new double[n][n];
    double[] rhs = new double[n];
    for (int s = 0; s < n; s++) {
      a[s][s] = 1;
      if (terminal[s]) {
        continue;  // V = 0
      }
      rhs[s] = c[s];
      for (int y = 0; y < n; y++) {
        a[s][y] -= gamma * p[s][y];
      }
    }
    return Lin.solve(Lin.lu("I - γP_π (discounted values)", a), rhs);
  }

  /** With γ = 1 every non-terminal state must reach the terminal set under p. */
  private void requireTermination(double[][] p) {
    boolean[] reaches = terminal.clone();
    ArrayDeque<Integer> queue = new ArrayDeque<>();
    for (int s = 0; s < n; s++) {
      if (terminal[s]) {
        queue.add(s);
      }
    }
    while (!queue.isEmpty()) {
      int y = queue.poll();
      for (int s = 0; s < n; s++) {
        if (!reaches[s] && p[s][y] > 0) {
          reaches[s] = true;
          queue.add(s);
        }
      }
    }
    for (int s = 0; s < n; s++) {
      if (!reaches[s]) {
        throw new IllegalArgumentException("gamma = 1: expected a policy that terminates from "
            + "every state, got one under which no terminal state is reachable from state " + s
            + " (the first-exit Bellman system is singular; use gamma < 1)");
      }
    }
  }

  /**
   * A deterministic policy that terminates from every state, built backwards from the terminal
   * set (each added state has an action with positive probability of moving to an earlier
   * one), or an error naming a state from which no policy terminates.
   */
  private int[] properPolicy() {
    boolean[] reached = terminal.clone();
    int[] act = new int[n];
    boolean grew = true;
    while (grew) {
      grew = false;
      for (int s = 0; s < n; s++) {
        if (reached[s]) {
          continue;
        }
        for (int a = 0; a < m && !reached[s]; a++) {
          for (int y = 0; y < n; y++) {
            if (reached[y] && transitions[s][a][y] > 0) {
              act[s] = a;
              reached[s] = true;
              grew = true;
              break;
            }
          }
        }
      }
    }
    for (int s = 0; s < n; s++) {
      if (!reached[s]) {
        throw new IllegalArgumentException("gamma = 1: expected every state to be able to "
            + "reach a terminal state, got state " + s + " from which no policy terminates "
            + "(use gamma < 1)");
      }
    }
    return act;
  }

  // ---------------------------------------------------------------- average cost

  /**
   * Average cost per step of the chain that continues through resets: a transition into a
   * terminal state is followed at once by s0 ~ p0 (the terminal state is not occupied), so the
   * chain lives on the non-terminal states; J = Σ_s d(s) Σ_a π(a|s) c(s,a) with d stationary.
   * d is computed on the states reachable from p0, where the closed loop must be unichain
   * (one recurrent class; periodic is fine): otherwise the long-run average would depend on
   * the class the chain falls into, and an IllegalArgumentException names two of the classes.
   */
  public double averageObjective(double[][] policy) {
    checkPolicy(policy);
    double[][] p = resetChain(closedLoop(policy));
    int[] states = reachableFromStart(p);
    AverageEvaluation e = evaluateAverage(p, closedLoopCost(policy), states, "policy");
    return e.gain;
  }

  /**
   * min over policies of the average cost, by policy iteration for unichain MDPs (Puterman
   * §8.6): evaluate the current deterministic policy exactly (stationary d and the differential
   * value h of (I − P̃)h = c − g, pinned by d·h = 0, both linear solves), switch each state to an
   * action whose c(s,a) + Σ P̃(s'|s,a) h(s') is lower by more than a relative 1e-12, stop when
   * nothing switches. It terminates in finitely many steps with an optimal deterministic
   * policy, and its answer is exact up to LU round-off. Relative value iteration was the other
   * option: it needs aperiodic chains (or a damping transform) and only converges
   * geometrically, so "to 1e-12" would be a convergence claim rather than an exact solve.
   *
   * <p>The MDP is restricted to the states reachable from p0 under some policy (the others
   * cannot affect J) and must be unichain there: every deterministic policy met must have one
   * recurrent class, else this fails clearly.
   */
  public double optimalAverageObjective() {
    // the states any policy can reach from p0 through the reset chain
    double[][] any = new double[n][n];
    for (int s = 0; s < n; s++) {
      if (terminal[s]) {
        continue;
      }
      double[] row = new double[n];
      for (int a = 0; a < m; a++) {
        for (int y = 0; y < n; y++) {
          row[y] += transitions[s][a][y] / m;
        }
      }
      any[s] = row;
    }
    int[] states = reachableFromStart(resetChain(any));
    int[] act = new int[n];
    double[][][] resetRows = new double[n][m][];
    for (int s : states) {
      for (int a = 0; a < m; a++) {
        resetRows[s][a] = resetRow(transitions[s][a]);
      }
    }
    for (int iteration = 0; iteration < MAX_POLICY_ITERATIONS; iteration++) {
      double[][] policy = deterministic(act);
      AverageEvaluation e = evaluateAverage(resetChain(closedLoop(policy)),
          closedLoopCost(policy), states, "optimalAverageObjective: a deterministic policy met "
              + "by policy iteration (the MDP must be unichain)");
      boolean changed = false;
      for (int s : states) {
        double[] q = new double[m];
        double scale = 1;
        for (int a = 0; a < m; a++) {
          q[a] = costs[s][a] + Vectors.dot(resetRows[s][a], e.differentialValue);
          scale = Math.max(scale, Math.abs(q[a]));
        }
        int best = act[s];
        for (int a = 0; a < m; a++) {
          if (q[a] < q[best] - IMPROVEMENT_TOLERANCE * scale) {
            best = a;
          }
        }
        if (best != act[s]) {
          act[s] = best;
          changed = true;
        }
      }
      if (!changed) {
        return e.gain;
      }
    }
    throw new IllegalStateException("optimalAverageObjective: policy iteration did not "
        + "terminate in " + MAX_POLICY_ITERATIONS + " iterations");
  }

  private record AverageEvaluation(double gain, double[] differentialValue) {}

  /**
   * g and h (full length, 0 outside {@code states}) of the reset chain p restricted to
   * {@code states}, which must be closed under p.
   */
  private AverageEvaluation evaluateAverage(double[][] p, double[] c, int[] states,
      String what) {
    requireUnichain(p, states, what);
    int k = states.length;
    double[][] sub = new double[k][k];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        sub[i][j] = p[states[i]][states[j]];
      }
    }
    // d solves (I - P̃ᵀ)d = 0, 1ᵀd = 1, i.e. (I - P̃ᵀ + 11ᵀ)d = 1: nonsingular iff unichain
    double[][] a = Lin.identityMinus(1.0, Lin.transpose(sub), null);
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        a[i][j] += 1;
      }
    }
    double[] ones = new double[k];
    Arrays.fill(ones, 1.0);
    double[] d = Lin.solve(Lin.lu("I - P̃ᵀ + 11ᵀ (stationary law)", a), ones);
    double[] cs = new double[k];
    for (int i = 0; i < k; i++) {
      cs[i] = c[states[i]];
    }
    double g = Vectors.dot(d, cs);
    // h solves (I - P̃)h = c - g with dᵀh = 0, i.e. (I - P̃ + 1dᵀ)h = c - g
    double[][] b = Lin.identityMinus(1.0, sub, null);
    double[] rhs = new double[k];
    for (int i = 0; i < k; i++) {
      rhs[i] = cs[i] - g;
      for (int j = 0; j < k; j++) {
        b[i][j] += d[j];
      }
    }
    double[] hs = Lin.solve(Lin.lu("I - P̃ + 1dᵀ (differential values)", b), rhs);
    double[] h = new double[n];
    for (int i = 0; i < k; i++) {
      h[states[i]] = hs[i];
    }
    return new AverageEvaluation(g, h);
  }

  /** Rows of the reset chain on all n states (terminal rows left zero, never occupied). */
  private double[][] resetChain(double[][] p) {
    double[][] r = new double[n][];
    for (int s = 0; s < n; s++) {
      r[s] = terminal[s] ? new double[n] : resetRow(p[s]);
    }
    return r;
  }

  /** P(·) with the mass on terminal states sent to p0. */
  private double[] resetRow(double[] row) {
    double out = 0;
    double[] r = new double[n];
    for (int y = 0; y < n; y++) {
      if (terminal[y]) {
        out += row[y];
      } else {
        r[y] = row[y];
      }
    }
    if (out > 0) {
      for (int y = 0; y < n; y++) {
        r[y] += out * initial[y];
      }
    }
    return r;
  }

  /** The non-terminal states reachable from supp(p0) along positive entries of p, ascending. */
  private int[] reachableFromStart(double[][] p) {
    boolean[] seen = new boolean[n];
    ArrayDeque<Integer> queue = new ArrayDeque<>();
    for (int s = 0; s < n; s++) {
      if (initial[s] > 0) {
        seen[s] = true;
        queue.add(s);
      }
    }
    while (!queue.isEmpty()) {
      int s = queue.poll();
      for (int y = 0; y < n; y++) {
        if (!seen[y] && p[s][y] > 0) {
          seen[y] = true;
          queue.add(y);
        }
      }
    }
    return java.util.stream.IntStream.range(0, n).filter(s -> seen[s]).toArray();
  }

  /** Exactly one closed communicating class among {@code states} (a set closed under p). */
  private void requireUnichain(double[][] p, int[] states, String what) {
    int k = states.length;
    boolean[][] reach = new boolean[k][];
    int[] index = new int[n];
    Arrays.fill(index, -1);
    for (int i = 0; i < k; i++) {
      index[states[i]] = i;
    }
    for (int i = 0; i < k; i++) {
      boolean[] seen = new boolean[k];
      ArrayDeque<Integer> queue = new ArrayDeque<>();
      seen[i] = true;
      queue.add(i);
      while (!queue.isEmpty()) {
        int x = queue.poll();
        for (int j = 0; j < k; j++) {
          if (!seen[j] && p[states[x]][states[j]] > 0) {
            seen[j] = true;
            queue.add(j);
          }
        }
      }
      reach[i] = seen;
    }
    List<List<Integer>> classes = new ArrayList<>();
    boolean[] assigned = new boolean[k];
    for (int i = 0; i < k; i++) {
      if (assigned[i]) {
        continue;
      }
      boolean recurrent = true;
      for (int j = 0; j < k && recurrent; j++) {
        recurrent = !reach[i][j] || reach[j][i];
      }
      if (!recurrent) {
        continue;
      }
      List<Integer> cls = new ArrayList<>();
      for (int j = 0; j < k; j++) {
        if (reach[i][j]) {
          cls.add(states[j]);
          assigned[j] = true;
        }
      }
      classes.add(cls);
    }
    if (classes.size() != 1) {
      throw new IllegalArgumentException(what + ": expected a unichain closed loop (one "
          + "recurrent class among the states reachable from p0), got " + classes.size()
          + " recurrent classes, e.g. states " + classes.get(0) + " and " + classes.get(1));
    }
  }

  // ---------------------------------------------------------------- helpers

  /** P_π[s][s'] = Σ_a π(a|s) P(s'|s,a) (terminal rows zero). */
  private double[][] closedLoop(double[][] policy) {
    double[][] p = new double[n][n];
    for (int s = 0; s < n; s++) {
      if (terminal[s]) {
        continue;
      }
      for (int a = 0; a < m; a++) {
        double pi = policy[s][a];
        if (pi == 0) {
          continue;
        }
        for (int y = 0; y < n; y++) {
          p[s][y] += pi * transitions[s][a][y];
        }
      }
    }
    return p;
  }

  /** c_π[s] = Σ_a π(a|s) c(s,a) (0 on terminal states). */
  private double[] closedLoopCost(double[][] policy) {
    double[] c = new double[n];
    for (int s = 0; s < n; s++) {
      if (!terminal[s]) {
        c[s] = Vectors.dot(policy[s], costs[s]);
      }
    }
    return c;
  }

  private double[][] deterministic(int[] act) {
    double[][] policy = new double[n][m];
    for (int s = 0; s < n; s++) {
      policy[s][act[s]] = 1;
    }
    return policy;
  }

  private void checkPolicy(double[][] policy) {
    Shapes.matrix("policy", policy, n, m);
    for (int s = 0; s < n; s++) {
      if (!terminal[s]) {
        requireDistribution("policy[" + s + "]", policy[s]);
      }
    }
  }

  private static void requireGamma(double gamma) {
    if (!(gamma > 0 && gamma <= 1)) {
      throw new IllegalArgumentException("gamma: expected 0 < gamma <= 1, got " + gamma);
    }
  }

  private static void requireDistribution(String field, double[] p) {
    double sum = 0;
    for (int i = 0; i < p.length; i++) {
      if (!(p[i] >= 0) || p[i] == Double.POSITIVE_INFINITY) {
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
