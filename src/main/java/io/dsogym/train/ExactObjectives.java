package io.dsogym.train;

import io.dsogym.collect.SystemParameters;
import io.dsogym.env.Env;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.ParametricSystem;
import io.dsogym.envs.EnvRegistry;
import io.dsogym.envs.control.LinearQuadraticRegulator;
import io.dsogym.envs.tabular.TabularChainEnv;
import io.dsogym.oracle.AffineLqr;
import io.dsogym.oracle.TabularMdp;
import io.dsogym.policy.ObservationEncoder;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policy;
import io.dsogym.policy.PolicySpec;
import io.dsogym.wire.Json;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;

/**
 * The exact J of the policy a run trains, where the env has an exact solver: the known MDP of
 * {@code TabularChain-v0} (a linear system per state: discounted or average cost, any
 * categorical policy) and {@code LQR-v0} (closed form: discounted, a linear Gaussian policy).
 * The policy is evaluated as the run presents states to it, through the current observation
 * statistics, so J is that of the very policy the evaluation lanes run (in its stochastic form).
 *
 * <p>The exact objective is the infinite-horizon one of the setting: episodes cut by the env's
 * time limit are bootstrapped in training, not ended, so the time limit is not part of it.
 */
public final class ExactObjectives {
  private ExactObjectives() {}

  /** The exact objective of the run, or null when its env, policy or setting has none. */
  public static ExactObjective forRun(TrainConfig config, EnvSpec spec, Policy policy,
      ObservationNormalizer normalizer) {
    return forRun(config, spec, policy, normalizer, null);
  }

  /**
   * The same where θ also holds system parameters (docs/math.md §10): J(θ) is that of the env
   * set to φ(θ). J* is then the optimum over the policy and the trained blocks where it is
   * finite: the transition logits of TabularChain-v0 alone; otherwise NaN (no finite optimum:
   * the rewards, A, B or Q can lower the cost without bound, or nothing closed-form is known).
   */
  public static ExactObjective forRun(TrainConfig config, EnvSpec spec, Policy policy,
      ObservationNormalizer normalizer, SystemParameters system) {
    String setting = config.setting();
    if (spec.id().equals(TabularChainEnv.ID)
        && policy.spec().head() == PolicySpec.Head.CATEGORICAL
        && (setting.equals("discounted") || setting.equals("average"))) {
      TabularChainEnv env = (TabularChainEnv) make(config);
      Function<double[], TabularMdp> mdp = mdpAt(env, system);
      double optimum;
      if (system == null) {
        optimum = optimum(TabularMdp.of(env), setting, config.gamma());
      } else if (config.systemParams().equals(java.util.List.of("transition_logits"))) {
        optimum = optimum(designed(env), setting, config.gamma());
      } else {
        optimum = Double.NaN;
      }
      return tabular(mdp, optimum, ObservationEncoder.forSpace(spec.observationSpace()),
          policy, normalizer, setting.equals("average"), config.gamma());
    }
    if (spec.id().equals(LinearQuadraticRegulator.ID)
        && policy.spec().head() == PolicySpec.Head.GAUSSIAN
        && policy.spec().hidden().isEmpty() && setting.equals("discounted")
        && config.gamma() < 1) {
      LinearQuadraticRegulator env = (LinearQuadraticRegulator) make(config);
      double gamma = config.gamma();
      Function<double[], AffineLqr> lqr = theta -> {
        set(env, system, theta);
        return AffineLqr.of(env);
      };
      // the actuator's cost c β² per step is a constant of the policy: its discounted sum
      DoubleUnaryOperator design = j -> j + env.designCost() / (1 - gamma);
      double optimum = system == null
          ? design.applyAsDouble(AffineLqr.of(env).optimalObjective(gamma)) : Double.NaN;
      return lqr(lqr, design, optimum, policy, normalizer, gamma);
    }
    return null;
  }

  private static void set(ParametricSystem env, SystemParameters system, double[] theta) {
    if (system != null) {
      env.setSystemParams(system.phi(theta));
    }
  }

  private static Function<double[], TabularMdp> mdpAt(TabularChainEnv env,
      SystemParameters system) {
    if (system == null) {
      TabularMdp fixed = TabularMdp.of(env);
      return theta -> fixed;
    }
    return theta -> {
      set(env, system, theta);
      return TabularMdp.of(env);
    };
  }

  private static double optimum(TabularMdp mdp, String setting, double gamma) {
    return setting.equals("average") ? mdp.optimalAverageObjective()
        : mdp.optimalDiscountedObjective(gamma);
  }

  /**
   * The MDP whose optimum is that over the policy and the transition logits: the logits can
   * put (in the limit) all of P[s][a]'s mass on any state y of its support, so every pair
   * (a, y) becomes a deterministic action (pairs outside the support repeat a supported one).
   */
  private static String noOptimum(double optimum) {
    return Double.isNaN(optimum) ? "; no finite J* over the trained system blocks" : "";
  }

  static TabularMdp designed(TabularChainEnv env) {
    double[][][] p = env.transitions();
    double[][] r = env.rewards();
    int n = env.numStates();
    int m = env.numActions();
    double[][][] t = new double[n][m * n][n];
    double[][] c = new double[n][m * n];
    boolean[] terminal = new boolean[n];
    for (int s = 0; s < n; s++) {
      terminal[s] = env.isTerminal(s);
      for (int a = 0; a < m; a++) {
        int fallback = 0;
        while (p[s][a][fallback] <= 0) {
          fallback++;
        }
        for (int y = 0; y < n; y++) {
          t[s][a * n + y][p[s][a][y] > 0 ? y : fallback] = 1;
          c[s][a * n + y] = -r[s][a];
        }
      }
    }
    return new TabularMdp(env.initialDistribution(), t, c, terminal);
  }

  private static Env make(TrainConfig config) {
    Map<String, Object> kwargs = Json.parseObject(
        config.envKwargsJson() == null ? "{}" : config.envKwargsJson(), "--env-kwargs");
    return EnvRegistry.defaults().make(config.envId(), kwargs);
  }

  /** π(a|s) of a categorical policy at every state, each state one-hot encoded. */
  static double[][] policyTable(int numStates, long firstState, ObservationEncoder encoder,
      Policy policy, ObservationNormalizer normalizer, double[] theta) {
    int d = policy.obsDim();
    int m = policy.spec().outputs();
    double[] x = new double[d];
    double[] z = new double[d];
    double[] logits = new double[m];
    double[][] table = new double[numStates][m];
    for (int s = 0; s < numStates; s++) {
      encoder.oneHot(firstState + s, x, 0);
      normalizer.normalize(x, 0, z, 0);
      policy.distributionParams(theta, z, 0, logits);
      double max = Double.NEGATIVE_INFINITY;
      for (double l : logits) {
        max = Math.max(max, l);
      }
      double sum = 0;
      for (int a = 0; a < m; a++) {
        table[s][a] = Math.exp(logits[a] - max);
        sum += table[s][a];
      }
      for (int a = 0; a < m; a++) {
        table[s][a] /= sum;
      }
    }
    return table;
  }

  private static ExactObjective tabular(Function<double[], TabularMdp> mdpAt, double optimum,
      ObservationEncoder encoder, Policy policy, ObservationNormalizer normalizer,
      boolean average, double gamma) {
    return new ExactObjective() {
      @Override
      public double objective(double[] theta) {
        TabularMdp mdp = mdpAt.apply(theta);
        double[][] pi = policyTable(mdp.numStates(), 0, encoder, policy, normalizer, theta);
        return average ? mdp.averageObjective(pi) : mdp.discountedObjective(pi, gamma);
      }

      @Override
      public double optimum() {
        return optimum;
      }

      @Override
      public String describe() {
        return average ? "average cost per step of the known MDP (linear solve; J* by policy "
            + "iteration)" : String.format(Locale.ROOT, "discounted cost of the known MDP, "
            + "γ = %s (linear solve; J* by policy iteration)", gamma) + noOptimum(optimum);
      }
    };
  }

  private static ExactObjective lqr(Function<double[], AffineLqr> lqrAt,
      DoubleUnaryOperator plusDesign, double optimum, Policy policy,
      ObservationNormalizer normalizer, double gamma) {
    return new ExactObjective() {
      @Override
      public double objective(double[] theta) {
        AffineLqr lqr = lqrAt.apply(theta);
        int n = lqr.stateDim();
        int m = lqr.actionDim();
        // A linear policy on normalized x is affine in x wherever the normalizer does not clip:
        // probe its mean at the observations' mean and one standard deviation along each axis.
        double[] base = normalizer.enabled() ? normalizer.mean() : new double[n];
        double[] step = new double[n];
        double[] var = normalizer.var();
        for (int j = 0; j < n; j++) {
          step[j] = normalizer.enabled() ? Math.sqrt(Math.max(var[j], 1e-12)) : 1.0;
        }
        double[] params = new double[2 * m];
        double[] z = new double[n];
        normalizer.normalize(base, 0, z, 0);
        policy.distributionParams(theta, z, 0, params);
        double[] atBase = java.util.Arrays.copyOf(params, m);
        double[] std = new double[m];
        for (int i = 0; i < m; i++) {
          std[i] = Math.exp(params[m + i]);
        }
        double[][] gain = new double[m][n];
        double[] x = new double[n];
        for (int j = 0; j < n; j++) {
          System.arraycopy(base, 0, x, 0, n);
          x[j] += step[j];
          normalizer.normalize(x, 0, z, 0);
          policy.distributionParams(theta, z, 0, params);
          for (int i = 0; i < m; i++) {
            gain[i][j] = (params[i] - atBase[i]) / step[j];
          }
        }
        double[] offset = atBase.clone();  // μ(x) = atBase + K (x - base) = offset + K x
        for (int i = 0; i < m; i++) {
          for (int j = 0; j < n; j++) {
            offset[i] -= gain[i][j] * base[j];
          }
        }
        return plusDesign.applyAsDouble(lqr.objective(gain, offset, std, gamma));
      }

      @Override
      public double optimum() {
        return optimum;
      }

      @Override
      public String describe() {
        return String.format(Locale.ROOT, "discounted LQR cost, γ = %s (closed form; J* from "
            + "the Riccati equation)", gamma) + noOptimum(optimum);
      }
    };
  }
}
