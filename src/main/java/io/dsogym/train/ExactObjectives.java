package io.dsogym.train;

import io.dsogym.env.Env;
import io.dsogym.env.EnvSpec;
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
    String setting = config.setting();
    if (spec.id().equals(TabularChainEnv.ID)
        && policy.spec().head() == PolicySpec.Head.CATEGORICAL
        && (setting.equals("discounted") || setting.equals("average"))) {
      TabularMdp mdp = TabularMdp.of((TabularChainEnv) make(config));
      return tabular(mdp, ObservationEncoder.forSpace(spec.observationSpace()), policy,
          normalizer, setting.equals("average"), config.gamma());
    }
    if (spec.id().equals(LinearQuadraticRegulator.ID)
        && policy.spec().head() == PolicySpec.Head.GAUSSIAN
        && policy.spec().hidden().isEmpty() && setting.equals("discounted")
        && config.gamma() < 1) {
      AffineLqr lqr = AffineLqr.of((LinearQuadraticRegulator) make(config));
      return lqr(lqr, policy, normalizer, config.gamma());
    }
    return null;
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

  private static ExactObjective tabular(TabularMdp mdp, ObservationEncoder encoder,
      Policy policy, ObservationNormalizer normalizer, boolean average, double gamma) {
    double optimum = average ? mdp.optimalAverageObjective()
        : mdp.optimalDiscountedObjective(gamma);
    return new ExactObjective() {
      @Override
      public double objective(double[] theta) {
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
            + "γ = %s (linear solve; J* by policy iteration)", gamma);
      }
    };
  }

  private static ExactObjective lqr(AffineLqr lqr, Policy policy,
      ObservationNormalizer normalizer, double gamma) {
    double optimum = lqr.optimalObjective(gamma);
    int n = lqr.stateDim();
    int m = lqr.actionDim();
    return new ExactObjective() {
      @Override
      public double objective(double[] theta) {
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
        return lqr.objective(gain, offset, std, gamma);
      }

      @Override
      public double optimum() {
        return optimum;
      }

      @Override
      public String describe() {
        return String.format(Locale.ROOT, "discounted LQR cost, γ = %s (closed form; J* from "
            + "the Riccati equation)", gamma);
      }
    };
  }
}
