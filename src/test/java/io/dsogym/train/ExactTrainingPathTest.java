package io.dsogym.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.collect.PolicyTransitions;
import io.dsogym.collect.ServerSideCollector;
import io.dsogym.dso.Algorithm1;
import io.dsogym.dso.Surrogate;
import io.dsogym.env.AutoresetMode;
import io.dsogym.env.DType;
import io.dsogym.env.Env;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.Space;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;
import io.dsogym.envs.tabular.TabularChainEnv;
import io.dsogym.oracle.DiscountedSolution;
import io.dsogym.oracle.MarginalPolicyChain;
import io.dsogym.oracle.ScoreRoute;
import io.dsogym.oracle.TabularExact;
import io.dsogym.oracle.TabularMdp;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.PolicySpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * An exact check of the real training path: the gradient the trainer computes from collected
 * batches is unbiased for the exact ∇J of the policy it trains, on a Java-native
 * TabularChain-v0 env. No Python.
 *
 * <p><b>Path.</b> {@link SyncVectorEnv} lanes (autoreset SAME_STEP) of TabularChain-v0, each
 * behind a test-only adapter that shows the state as a one-hot Box(S) observation (the env's
 * own observation is Discrete(S), the index); the real {@link ServerSideCollector}; the real
 * linear categorical {@link MlpPolicy} (logit(s,a) = W[a][s] + b[a], θ = [W row-major A×S,
 * b]); {@link Algorithm1#weights} with Setting.DISCOUNTED, λ = 1, discountStates = true, no
 * advantage normalization, and V̂(x), V̂(x') both the EXACT values of
 * {@link TabularMdp#discountedValues}; then, exactly as {@code Trainer} does, advantage
 * A_i = w_i/n and state weight κ_i/n into a {@link Surrogate} over {@link PolicyTransitions}
 * (the sampled-action score ∇ln π(a_i|x_i), docs/math.md §2c route 2), whose
 * {@link Surrogate#gradientAtStart} is the trainer's ĝ = (1/n) Σ_i w_i s_i of one batch.
 *
 * <p><b>The MDP</b> (random tables, fixed seed) is built so that every episode is whole and
 * exactly L = 3 steps long: states are layers 0, 1, 2 of 3 cells each, p0 on layer 0, every
 * action moves one layer on, and from layer 2 the step enters either the terminal state T
 * ({@code terminated}: bracket 0) or one of two absorbing non-terminal states Z0, Z1 whose
 * actions are all alike (cost 0 or 3 per step forever, V(Z) = c/(1−γ)); max_episode_steps =
 * 3, so entering Z is a {@code truncated} step bootstrapped with V̂(Z). Each run resets one
 * collector and collects four batches of 2, 3, 3 and 1 steps per lane: exactly 3 whole
 * episodes per lane (9 steps), each of them cut once by a batch end after its episode step 1
 * (bootstrapped with V̂ of a layer-2 state) and continued, with the right episode step and
 * γ^t, in the next batch.
 *
 * <p><b>Normalisation.</b> Take one episode x_0 .. x_3 from p0. With every bootstrap exact
 * (V at a cut or truncation, 0 at T), E[Ĝ_t | x_t, a_t] = Q(x_t, a_t) by the tower property,
 * so E[w_t s_t] = γ^t E[Σ_a π(a|x_t) (Q − V)(x_t,a) ∇ln π(a|x_t)] = γ^t E[g(x_t)] whichever
 * batch holds step t. Summed over the episode this is Σ_x ρ(x) g(x) = ∇J (the policy-gradient
 * theorem, docs/math.md §2c; the states after the time limit are Z, where π has no effect, so
 * no term is missing). Hence, with n_b = lanes · K_b transitions in batch b and ĝ_b the
 * trainer's estimate of batch b,
 * <pre>
 *   E[ Σ_b n_b ĝ_b ] = E[ Σ_{i in the run} w_i s_i ] = (3 · lanes) ∇J
 *   ∇J = E[ Σ_b n_b ĝ_b / episodes ],      E[ Σ_b n_b ĝ_b / Σ_b n_b ] = ∇J / L   (L = 3).
 * </pre>
 * So the trainer's ĝ, an average over transitions, estimates ∇J divided by the episode length
 * (for random lengths, by their mean, in the long run): the per-step share of the
 * per-episode gradient. A single batch that cuts episodes is not unbiased for a multiple of
 * ∇J (its cut episodes contribute only their first steps); it is together with the batches
 * that finish them, which is why each run spans whole episodes.
 *
 * <p><b>Exact ∇J</b>: central finite differences (h = 1e-5) of
 * {@link TabularMdp#discountedObjective} over θ, with the policy table computed by
 * {@code MlpPolicy} itself; cross-checked against Theorem 1 on {@link MarginalPolicyChain}
 * with features that reproduce the policy's logits ({@link TabularExact#discounted}).
 *
 * <p><b>Assertions.</b> Over 200 independent runs (different env and sampler seeds), every
 * coordinate of the mean per-episode estimate lies within 4 standard errors of ∇J
 * (coordinates the samples never touch, the W columns of T and Z, are exactly 0 on both
 * sides). The comparison has power: flipping the sign of the largest coordinate of ∇J, or
 * dropping the bootstrap (V̂(x') := 0) at the batch cut or at the truncations, is rejected
 * by the same criterion on the same samples.
 */
class ExactTrainingPathTest {
  private static final int LAYERS = 3;
  private static final int CELLS = 3;
  private static final int ACTIONS = 3;
  /** Z0, Z1, then T. */
  private static final int STATES = LAYERS * CELLS + 3;
  private static final int Z0 = LAYERS * CELLS;
  private static final int TERMINAL = STATES - 1;
  private static final double[] Z_COST = {0.0, 3.0};
  private static final double GAMMA = 0.9;
  private static final int LANES = 16;
  /** Steps per lane of the successive batches of a run: 3 whole episodes, each cut once. */
  private static final int[] BATCHES = {2, 3, 3, 1};
  private static final int EPISODES_PER_LANE = 3;
  private static final int RUNS = 200;

  private static Map<String, Object> kwargs;
  private static TabularMdp mdp;
  private static MlpPolicy policy;
  private static double[] theta;
  private static double[] values;
  private static double[] exactGradient;

  /** Which bootstraps to drop (V̂(x') := 0) in a deliberately biased variant. */
  private enum Bootstrap { EXACT, ZERO_AT_CUT, ZERO_AT_TRUNCATION }

  @BeforeAll
  static void setUp() {
    SplittableRandom rng = new SplittableRandom(20260301L);
    double[][][] p = new double[STATES][ACTIONS][STATES];
    double[][] cost = new double[STATES][ACTIONS];
    for (int s = 0; s < STATES; s++) {
      int layer = s / CELLS;
      for (int a = 0; a < ACTIONS; a++) {
        if (s >= Z0) {
          p[s][a][s] = 1;  // Z0, Z1 absorbing, every action alike; T absorbing (never stepped)
          cost[s][a] = s == TERMINAL ? 0 : Z_COST[s - Z0];
          continue;
        }
        int first = layer < LAYERS - 1 ? (layer + 1) * CELLS : Z0;
        int width = layer < LAYERS - 1 ? CELLS : 3;  // layer 2 -> Z0, Z1, T
        double sum = 0;
        for (int j = 0; j < width; j++) {
          double u = rng.nextDouble();
          p[s][a][first + j] = u * u * u;  // skewed: actions matter
          sum += p[s][a][first + j];
        }
        for (int j = 0; j < width; j++) {
          p[s][a][first + j] /= sum;
        }
        cost[s][a] = -1 + 3 * rng.nextDouble();
      }
    }
    double[] p0 = new double[STATES];
    p0[0] = 0.5;
    p0[1] = 0.3;
    p0[2] = 0.2;
    double[][] rewards = new double[STATES][ACTIONS];
    for (int s = 0; s < STATES; s++) {
      for (int a = 0; a < ACTIONS; a++) {
        rewards[s][a] = -cost[s][a];
      }
    }
    kwargs = new LinkedHashMap<>();
    kwargs.put("transitions", p);
    kwargs.put("rewards", rewards);
    kwargs.put("initial", p0);
    kwargs.put("terminal", List.of((double) TERMINAL));
    kwargs.put("max_episode_steps", (double) LAYERS);
    mdp = TabularMdp.of(new TabularChainEnv(kwargs));

    policy = new MlpPolicy(new PolicySpec(PolicySpec.Head.CATEGORICAL, STATES, List.of(),
        PolicySpec.Activation.TANH, ACTIONS), 0.0);
    theta = new double[policy.numParams()];
    for (int i = 0; i < theta.length; i++) {
      theta[i] = 0.8 * gaussian(rng);
    }
    values = mdp.discountedValues(policyTable(theta), GAMMA);
    exactGradient = new double[theta.length];
    double h = 1e-5;
    for (int k = 0; k < theta.length; k++) {
      double[] plus = theta.clone();
      double[] minus = theta.clone();
      plus[k] += h;
      minus[k] -= h;
      exactGradient[k] = (mdp.discountedObjective(policyTable(plus), GAMMA)
          - mdp.discountedObjective(policyTable(minus), GAMMA)) / (2 * h);
    }
  }

  /** π(a|s) for every state, from the policy's own logits at the one-hot observation. */
  private static double[][] policyTable(double[] th) {
    double[][] pi = new double[STATES][ACTIONS];
    double[] logits = new double[ACTIONS];
    for (int s = 0; s < STATES; s++) {
      policy.distributionParams(th, oneHot(s), 0, logits);
      double max = Double.NEGATIVE_INFINITY;
      for (double l : logits) {
        max = Math.max(max, l);
      }
      double sum = 0;
      for (int a = 0; a < ACTIONS; a++) {
        pi[s][a] = Math.exp(logits[a] - max);
        sum += pi[s][a];
      }
      for (int a = 0; a < ACTIONS; a++) {
        pi[s][a] /= sum;
      }
    }
    return pi;
  }

  private static double[] oneHot(int s) {
    double[] x = new double[STATES];
    x[s] = 1;
    return x;
  }

  /** TabularChain-v0 seen through a one-hot Box(S) observation (test-only adapter). */
  private static final class OneHotEnv implements Env {
    private final TabularChainEnv inner;
    private final EnvSpec spec;

    OneHotEnv(TabularChainEnv inner) {
      this.inner = inner;
      EnvSpec s = inner.spec();
      this.spec = new EnvSpec("OneHot(" + s.id() + ")",
          Space.Box.uniform(DType.FLOAT64, new int[] {inner.numStates()}, 0, 1),
          s.actionSpace(), s.maxEpisodeSteps(), null);
    }

    private Tensor encode(Value v) {
      return Tensor.ofFloat64(new int[] {inner.numStates()},
          oneHot((int) ((Tensor) v).getLong(0)));
    }

    @Override
    public EnvSpec spec() {
      return spec;
    }

    @Override
    public ResetResult reset(Long seed, Map<String, Object> options) {
      ResetResult r = inner.reset(seed, options);
      return new ResetResult(encode(r.observation()), r.info());
    }

    @Override
    public StepResult step(Value action) {
      StepResult r = inner.step(action);
      return new StepResult(encode(r.observation()), r.reward(), r.terminated(), r.truncated(),
          r.info());
    }
  }

  private static int state(double[] obs, int i) {
    for (int s = 0; s < STATES; s++) {
      if (obs[i * STATES + s] == 1.0) {
        return s;
      }
    }
    throw new AssertionError("observation " + i + " is not one-hot");
  }

  /**
   * One run: a fresh collector over fresh lanes, four batches covering 3 whole episodes per
   * lane, each turned into the trainer's ĝ_b; returns Σ_b n_b ĝ_b / episodes, one per
   * bootstrap variant (computed on the same samples).
   */
  private static double[][] run(int r) {
    List<Env> lanes = new ArrayList<>();
    for (int i = 0; i < LANES; i++) {
      lanes.add(new OneHotEnv(new TabularChainEnv(kwargs)));
    }
    ObservationNormalizer normalizer = new ObservationNormalizer(STATES, false, 10);
    Algorithm1.Options options = new Algorithm1.Options(Algorithm1.Setting.DISCOUNTED, GAMMA,
        1.0, true);
    Bootstrap[] variants = Bootstrap.values();
    double[][] sum = new double[variants.length][theta.length];
    try (ServerSideCollector collector = new ServerSideCollector(
        new SyncVectorEnv(lanes, AutoresetMode.SAME_STEP), policy,
        new SplittableRandom(7_777_777L + 31L * r))) {
      collector.reset(1_000L * r);
      for (int steps : BATCHES) {
        TrajectoryBatch batch = new TrajectoryBatch(STATES, 1);
        collector.collect(theta, normalizer, steps, batch);
        int n = batch.size();
        double[] zObs = new double[n * STATES];
        for (int i = 0; i < n; i++) {
          normalizer.normalize(batch.obs, i * STATES, zObs, i * STATES);
        }
        for (int v = 0; v < variants.length; v++) {
          double[] value = new double[n];
          double[] nextValue = new double[n];
          for (int i = 0; i < n; i++) {
            value[i] = values[state(batch.obs, i)];
            nextValue[i] = values[state(batch.nextObs, i)];
            boolean cut = i >= (batch.stepsPerLane - 1) * batch.numLanes && !batch.ended(i);
            if ((variants[v] == Bootstrap.ZERO_AT_CUT && cut)
                || (variants[v] == Bootstrap.ZERO_AT_TRUNCATION && batch.truncated[i]
                    && !batch.terminated[i])) {
              nextValue[i] = 0;
            }
          }
          double[] weights = new double[n];
          double[] targets = new double[n];
          Algorithm1.weights(batch, value, nextValue, options, 0.0, weights, targets);
          double[] advantage = new double[n];
          double[] stateWeight = new double[n];
          for (int i = 0; i < n; i++) {
            advantage[i] = weights[i] / n;
            stateWeight[i] = Algorithm1.stateWeight(batch, i, options) / n;
          }
          Surrogate surrogate = new Surrogate(new PolicyTransitions(policy, zObs,
              batch.actions, n), null, theta, advantage, stateWeight);
          double[] g = new double[theta.length];
          surrogate.gradientAtStart(g);
          for (int k = 0; k < theta.length; k++) {
            sum[v][k] += n * g[k] / (EPISODES_PER_LANE * LANES);
          }
        }
      }
    }
    return sum;
  }

  /** Per-coordinate mean and standard error over runs. */
  private record Stats(double[] mean, double[] se) {
    static Stats of(double[][] samples) {
      int runs = samples.length;
      int k = samples[0].length;
      double[] mean = new double[k];
      double[] se = new double[k];
      for (double[] s : samples) {
        for (int j = 0; j < k; j++) {
          mean[j] += s[j] / runs;
        }
      }
      for (int j = 0; j < k; j++) {
        double ss = 0;
        for (double[] s : samples) {
          ss += (s[j] - mean[j]) * (s[j] - mean[j]);
        }
        se[j] = Math.sqrt(ss / (runs - 1) / runs);
      }
      return new Stats(mean, se);
    }

    /** max_j |mean_j − target_j| / SE_j over the sampled coordinates (SE &gt; 0). */
    double maxZ(double[] target) {
      double z = 0;
      for (int j = 0; j < mean.length; j++) {
        if (se[j] > 0) {
          z = Math.max(z, Math.abs(mean[j] - target[j]) / se[j]);
        }
      }
      return z;
    }
  }

  @Test
  @DisplayName("exact ∇J: finite differences of TabularMdp over MlpPolicy's θ equal Theorem 1 on MarginalPolicyChain with the policy's logit features (1e-7)")
  void exactGradientCrossCheck() {
    // logit(s,a) = W[a][s] + b[a] = F[s][a]·θ with F[s][a] = e_{a·S+s} + e_{A·S+a}
    double[][][] features = new double[STATES][ACTIONS][theta.length];
    double[][][] p = new double[STATES][ACTIONS][];
    double[][] cost = new double[STATES][ACTIONS];
    double[][][] tables = (double[][][]) kwargs.get("transitions");
    double[][] rewards = (double[][]) kwargs.get("rewards");
    for (int s = 0; s < STATES; s++) {
      for (int a = 0; a < ACTIONS; a++) {
        features[s][a][a * STATES + s] = 1;
        features[s][a][ACTIONS * STATES + a] = 1;
        p[s][a] = tables[s][a];
        cost[s][a] = s == TERMINAL ? 0 : -rewards[s][a];  // T absorbing and free: V(T) = 0
      }
    }
    MarginalPolicyChain chain = new MarginalPolicyChain((double[]) kwargs.get("initial"), p,
        features, cost, ScoreRoute.EXACT_MARGINAL);
    DiscountedSolution exact = TabularExact.discounted(chain, GAMMA, theta);
    assertEquals(exact.objective, mdp.discountedObjective(policyTable(theta), GAMMA), 1e-12);
    double norm = 0;
    for (int k = 0; k < theta.length; k++) {
      assertEquals(exact.gradient[k], exactGradient[k], 1e-7, "∂J/∂θ_" + k);
      norm = Math.max(norm, Math.abs(exact.gradient[k]));
    }
    assertTrue(norm > 0.1, "the gradient is not small: max |∂J/∂θ_k| = " + norm);
  }

  @Test
  @DisplayName("the trainer's gradient (collector, MlpPolicy, Algorithm 1 with exact V̂, Surrogate) is unbiased for the exact ∇J within 4 SE per coordinate; a flipped sign or a dropped cut/truncation bootstrap is rejected")
  void trainingPathGradientIsUnbiased() {
    Bootstrap[] variants = Bootstrap.values();
    double[][][] samples = new double[variants.length][RUNS][];
    for (int r = 0; r < RUNS; r++) {
      double[][] g = run(r);
      for (int v = 0; v < variants.length; v++) {
        samples[v][r] = g[v];
      }
    }
    Stats exact = Stats.of(samples[Bootstrap.EXACT.ordinal()]);
    int sampled = 0;
    int strongest = 0;
    for (int j = 0; j < theta.length; j++) {
      if (exact.se[j] == 0) {
        // a W column of Z or T: never an input, so the estimate is exactly 0, as is ∂J/∂θ_j
        assertEquals(0.0, exact.mean[j], 0.0, "unsampled coordinate " + j);
        assertEquals(0.0, exactGradient[j], 1e-9, "∂J/∂θ_" + j + " of an unsampled coordinate");
        continue;
      }
      sampled++;
      double z = (exact.mean[j] - exactGradient[j]) / exact.se[j];
      assertTrue(Math.abs(z) <= 4, "coordinate " + j + ": estimate " + exact.mean[j] + " ± "
          + exact.se[j] + " vs exact " + exactGradient[j] + " (z = " + z + ")");
      if (Math.abs(exactGradient[j]) > Math.abs(exactGradient[strongest])) {
        strongest = j;
      }
    }
    assertEquals((LAYERS * CELLS + 1) * ACTIONS, sampled,
        "sampled coordinates: the W columns of the 9 layer states and b");
    double worst = exact.maxZ(exactGradient);

    // negative control 1: a wrong gradient, one coordinate's sign flipped
    double[] flipped = exactGradient.clone();
    flipped[strongest] = -flipped[strongest];
    double flippedZ = exact.maxZ(flipped);
    assertTrue(flippedZ > 4, "a gradient with coordinate " + strongest + " flipped must be "
        + "rejected, got max |z| " + flippedZ);
    // negative controls 2 and 3: V̂(x') := 0 at the batch cut, or at the truncations
    double cutZ = Stats.of(samples[Bootstrap.ZERO_AT_CUT.ordinal()]).maxZ(exactGradient);
    double truncZ = Stats.of(samples[Bootstrap.ZERO_AT_TRUNCATION.ordinal()])
        .maxZ(exactGradient);
    assertTrue(cutZ > 4, "dropping the bootstrap at the batch cut must be rejected, got max "
        + "|z| " + cutZ);
    assertTrue(truncZ > 4, "dropping the bootstrap at truncations must be rejected, got max "
        + "|z| " + truncZ);
    double relSe = 0;
    double norm = 0;
    for (int j = 0; j < theta.length; j++) {
      relSe += exact.se[j] * exact.se[j];
      norm += exactGradient[j] * exactGradient[j];
    }
    System.out.printf("[exact-training-path] %d runs x %d lanes x %d episodes: worst |z| %.2f "
        + "over %d coordinates, ‖SE‖/‖∇J‖ %.3f; rejected: sign of θ_%d flipped (max |z| %.1f), "
        + "V̂(x')=0 at the cut (%.1f), at truncations (%.1f)%n", RUNS, LANES, EPISODES_PER_LANE,
        worst, sampled, Math.sqrt(relSe / norm), strongest, flippedZ, cutZ, truncZ);
  }

  private static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }
}
