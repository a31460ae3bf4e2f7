package io.dsogym.oracle;

import io.dsogym.envs.tabular.TabularChainEnv;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/** Random finite MDP tables for the exact-objective tests, and the env built from them. */
final class RandomMdp {
  final double[] initial;
  final double[][][] transitions;
  final double[][] costs;
  final boolean[] terminal;

  private RandomMdp(double[] initial, double[][][] transitions, double[][] costs,
      boolean[] terminal) {
    this.initial = initial;
    this.transitions = transitions;
    this.costs = costs;
    this.terminal = terminal;
  }

  /**
   * n states (the last {@code terminals} of them terminal), m actions, dense random rows with
   * at least {@code exitMass} of every non-terminal row's mass on the terminal states (so with
   * exitMass &gt; 0 every policy terminates), costs in [-1, 2), p0 on the non-terminal states.
   * Terminal rows are absorbing with cost 0.
   */
  static RandomMdp generate(SplittableRandom rng, int n, int m, int terminals, double exitMass) {
    boolean[] terminal = new boolean[n];
    for (int s = n - terminals; s < n; s++) {
      terminal[s] = true;
    }
    double[][][] p = new double[n][m][n];
    double[][] c = new double[n][m];
    for (int s = 0; s < n; s++) {
      for (int a = 0; a < m; a++) {
        if (terminal[s]) {
          p[s][a][s] = 1;
          continue;
        }
        double[] row = p[s][a];
        double live = 0;
        double dead = 0;
        for (int y = 0; y < n; y++) {
          row[y] = rng.nextDouble() < 0.25 ? 0 : rng.nextDouble();
          if (terminal[y]) {
            dead += row[y];
          } else {
            live += row[y];
          }
        }
        if (live == 0) {
          row[s == 0 ? 1 % (n - terminals) : 0] = 1;
          live = 1;
        }
        double toTerminal = terminals == 0 ? 0 : exitMass + (1 - exitMass) * dead / (live + dead);
        for (int y = 0; y < n; y++) {
          if (terminal[y]) {
            row[y] = dead > 0 ? toTerminal * row[y] / dead : (y == n - 1 ? toTerminal : 0);
          } else {
            row[y] = (1 - toTerminal) * row[y] / live;
          }
        }
        c[s][a] = -1 + 3 * rng.nextDouble();
      }
    }
    double[] p0 = new double[n];
    double total = 0;
    for (int s = 0; s < n - terminals; s++) {
      p0[s] = 0.1 + rng.nextDouble();
      total += p0[s];
    }
    for (int s = 0; s < n; s++) {
      p0[s] /= total;
    }
    return new RandomMdp(p0, p, c, terminal);
  }

  TabularMdp mdp() {
    return new TabularMdp(initial, transitions, costs, terminal);
  }

  int numStates() {
    return initial.length;
  }

  int numActions() {
    return costs[0].length;
  }

  /** The TabularChain-v0 env of these tables (rewards = −costs). */
  TabularChainEnv env(int maxEpisodeSteps) {
    Map<String, Object> kw = new LinkedHashMap<>();
    kw.put("transitions", transitions);
    double[][] rewards = new double[costs.length][];
    for (int s = 0; s < costs.length; s++) {
      rewards[s] = new double[costs[s].length];
      for (int a = 0; a < rewards[s].length; a++) {
        rewards[s][a] = -costs[s][a];
      }
    }
    kw.put("rewards", rewards);
    kw.put("initial", initial);
    List<Object> term = new ArrayList<>();
    for (int s = 0; s < terminal.length; s++) {
      if (terminal[s]) {
        term.add((double) s);
      }
    }
    kw.put("terminal", term);
    kw.put("max_episode_steps", (double) maxEpisodeSteps);
    return new TabularChainEnv(kw);
  }

  /** A random stochastic policy table: softmax of N(0, scale²) logits. */
  static double[][] randomPolicy(SplittableRandom rng, int n, int m, double scale) {
    double[][] pi = new double[n][m];
    for (int s = 0; s < n; s++) {
      double max = Double.NEGATIVE_INFINITY;
      double[] logits = new double[m];
      for (int a = 0; a < m; a++) {
        logits[a] = scale * gaussian(rng);
        max = Math.max(max, logits[a]);
      }
      double sum = 0;
      for (int a = 0; a < m; a++) {
        pi[s][a] = Math.exp(logits[a] - max);
        sum += pi[s][a];
      }
      for (int a = 0; a < m; a++) {
        pi[s][a] /= sum;
      }
    }
    return pi;
  }

  /** Every deterministic policy over the non-terminal states (terminal rows fixed to action 0). */
  static List<double[][]> deterministicPolicies(int n, int m, boolean[] terminal) {
    List<double[][]> out = new ArrayList<>();
    int free = 0;
    for (boolean t : terminal) {
      free += t ? 0 : 1;
    }
    long count = Math.round(Math.pow(m, free));
    for (long code = 0; code < count; code++) {
      double[][] pi = new double[n][m];
      long rest = code;
      for (int s = 0; s < n; s++) {
        if (terminal[s]) {
          pi[s][0] = 1;
          continue;
        }
        pi[s][(int) (rest % m)] = 1;
        rest /= m;
      }
      out.add(pi);
    }
    return out;
  }

  static int sample(double[] p, SplittableRandom rng) {
    double u = rng.nextDouble();
    double cum = 0;
    int last = 0;
    for (int i = 0; i < p.length; i++) {
      if (p[i] > 0) {
        cum += p[i];
        last = i;
        if (u < cum) {
          return i;
        }
      }
    }
    return last;
  }

  static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }
}
