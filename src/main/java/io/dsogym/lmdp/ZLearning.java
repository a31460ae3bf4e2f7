package io.dsogym.lmdp;

import io.dsogym.oracle.ChainRollouts;
import io.dsogym.oracle.LmdpChain;

/**
 * Z-learning of a first-exit LMDP's desirability z = e^{-V*} from sampled transitions
 * (docs/math.md §5, §5a). Each transition x -> x' moves ẑ(x) toward a one-sample estimate of the
 * right-hand side of z(x) = e^{-q(x)} Σ_y p(y|x) z(y):
 * <pre>
 *   ẑ(x) ← (1 - η_x) ẑ(x) + η_x e^{-q(x)} w ẑ(x'),      η_x = c / (c + n_x)
 * </pre>
 * with w = 1 on-chain (x' ~ p(·|x)) and w = p(x'|x) / P_b(x'|x) off-chain (x' ~ P_b(·|x), any
 * behaviour chain whose support covers p's), so that the target's expectation is the same.
 * Terminal states keep ẑ = e^{-q}. n_x counts the earlier updates of x: each state's step size
 * decays with its own visits (η = 1 at the first, which replaces the initial value), because a
 * single global decay starves the states visited late and leaves their error frozen in.
 * c sets how long a state averages with a near-constant weight before the 1/n decay takes over;
 * it should be of the order of the number of steps an estimate needs to propagate back from the
 * terminal set.
 */
public final class ZLearning {
  private final double[][] passive;
  private final double[] discount;
  private final boolean[] terminal;
  private final double stepScale;
  private final double[] z;
  private final long[] visits;
  private long updates;

  /**
   * @param lmdp the problem: its passive dynamics p, state costs q and terminal set
   * @param stepScale c > 0 of η_x = c / (c + n_x)
   * @param initial ẑ before the first visit of a non-terminal state (> 0; 1 is V̂ = 0)
   */
  public ZLearning(LmdpChain lmdp, double stepScale, double initial) {
    if (!(stepScale > 0) || Double.isInfinite(stepScale)) {
      throw new IllegalArgumentException("stepScale: expected a finite c > 0, got " + stepScale);
    }
    if (!(initial > 0) || Double.isInfinite(initial)) {
      throw new IllegalArgumentException("initial: expected a finite ẑ > 0, got " + initial);
    }
    int n = lmdp.numStates();
    this.passive = lmdp.passive();
    this.terminal = lmdp.terminalMask();
    this.stepScale = stepScale;
    double[] q = lmdp.stateCosts();
    this.discount = new double[n];
    this.z = new double[n];
    this.visits = new long[n];
    for (int x = 0; x < n; x++) {
      discount[x] = Math.exp(-q[x]);
      z[x] = terminal[x] ? discount[x] : initial;
    }
  }

  /** An on-chain update: x -> x' was sampled from the passive dynamics p. */
  public void update(int x, int next) {
    update(x, next, 1.0);
  }

  /**
   * An update with importance weight w = p(x'|x) / P_b(x'|x) for a transition sampled from a
   * behaviour chain P_b (w = 1 on-chain).
   */
  public void update(int x, int next, double importanceWeight) {
    if (terminal[x]) {
      throw new IllegalArgumentException("x: expected a non-terminal state (no transition "
          + "leaves the terminal set), got " + x);
    }
    if (!(importanceWeight >= 0) || Double.isInfinite(importanceWeight)) {
      throw new IllegalArgumentException("importanceWeight: expected finite and >= 0, got "
          + importanceWeight + " at " + x + " -> " + next);
    }
    double eta = stepScale / (stepScale + visits[x]);
    z[x] += eta * (discount[x] * importanceWeight * z[next] - z[x]);
    visits[x]++;
    updates++;
  }

  /**
   * Learns from every transition of a recorded batch (terminal steps carry none), in the order
   * recorded. {@code behaviour[x][y]} is the chain that sampled them: the passive dynamics for
   * on-chain learning, else P_b, which must cover p's support.
   *
   * @return the number of transitions learned from
   */
  public int learn(ChainRollouts<Integer> batch, double[][] behaviour) {
    int n = z.length;
    if (behaviour == null || behaviour.length != n) {
      throw new IllegalArgumentException("behaviour: expected " + n + " rows, got "
          + (behaviour == null ? "null" : behaviour.length));
    }
    for (int x = 0; x < n; x++) {
      if (terminal[x]) {
        continue;
      }
      for (int y = 0; y < n; y++) {
        if (passive[x][y] > 0 && !(behaviour[x][y] > 0)) {
          throw new IllegalArgumentException("behaviour: expected P_b(y|x) > 0 wherever "
              + "p(y|x) > 0 (docs/math.md §5), got " + behaviour[x][y] + " at " + x + " -> " + y);
        }
      }
    }
    int learned = 0;
    for (int i = 0; i < batch.batch.size(); i++) {
      Integer next = batch.nextState(i);
      if (next == null) {
        continue;
      }
      int x = batch.state(i);
      update(x, next, passive[x][next] / behaviour[x][next]);  // p/p = 1 exactly on-chain
      learned++;
    }
    return learned;
  }

  /** ẑ (a copy). */
  public double[] desirability() {
    return z.clone();
  }

  /** V̂ = -ln ẑ, the critic Z-learning gives (docs/math.md §5). */
  public double[] value() {
    double[] v = new double[z.length];
    for (int x = 0; x < v.length; x++) {
      v[x] = -Math.log(z[x]);
    }
    return v;
  }

  /** n_x: the updates of each state so far (a copy, as doubles for use as weights). */
  public double[] visits() {
    double[] v = new double[visits.length];
    for (int x = 0; x < v.length; x++) {
      v[x] = visits[x];
    }
    return v;
  }

  /** All updates so far. */
  public long updates() {
    return updates;
  }
}
