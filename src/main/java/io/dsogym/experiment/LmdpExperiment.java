package io.dsogym.experiment;

import io.dsogym.lmdp.KlRegression;
import io.dsogym.lmdp.LmdpProblems;
import io.dsogym.lmdp.ZCritic;
import io.dsogym.lmdp.ZLearning;
import io.dsogym.oracle.ChainRollouts;
import io.dsogym.oracle.KnownChainSource;
import io.dsogym.oracle.LmdpChain;
import io.dsogym.oracle.LmdpExact;
import io.dsogym.oracle.TabularExact;
import io.dsogym.train.ExactObjective;
import io.dsogym.train.MetricsLog;
import io.dsogym.train.TrainConfig;
import io.dsogym.train.TrainPresets;
import io.dsogym.train.Trainer;
import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code experiment lmdp}: four ways from the passive dynamics (θ = 0) to the optimal chain of a
 * first-exit LMDP (docs/math.md §2g, §5), on a gridworld and on a quadratic-cost Gaussian LMDP
 * ({@link LmdpProblems}), each with the free controlled chain:
 *
 * <ul>
 *   <li>{@code gradient}: Algorithm 1 + Adam (§3f) through the {@link Trainer} on a
 *       {@link KnownChainSource};
 *   <li>{@code chain_iteration}: the Trainer's Chain Iteration (§4c);
 *   <li>{@code z_learning_on}: Z-learning from samples of the passive dynamics p (§5);
 *   <li>{@code z_learning_off}: Z-learning from samples of the current chain P(·|·,θ_k), each
 *       target weighted by p/P(·|·,θ_k) (§5).
 * </ul>
 *
 * After each Z-learning batch, θ is fitted to u ∝ p ẑ by {@link KlRegression} (the states
 * weighted by their Z-learning visits), and that θ is what is scored, and what samples the next
 * off-chain batch. Every method is scored by the exact first-exit J of its θ (a linear solve)
 * against J* = Σ P0 (-ln z) from {@link LmdpExact}: the relative gap (J - J*)/|J*|, after every
 * iteration, against iterations and against samples (recorded chain steps: the Trainer's env
 * steps, which also count each episode's terminal state, and likewise for Z-learning).
 *
 * <p>Writes DIR/result.json (the figures per problem and method), DIR/curves.csv (every
 * method's gap after every iteration), DIR/lmdp.png, and for the two Trainer methods their run
 * directories DIR/PROBLEM/METHOD (metrics.csv, summary.json, train.log).
 */
public final class LmdpExperiment implements Experiment {
  public static final String NAME = "lmdp";
  /** The gap the experiment's target and its {@code samples_to_1pct} refer to. */
  public static final double TARGET_GAP = 0.01;
  public static final List<String> METHODS = List.of("gradient", "gradient_z_critic",
      "chain_iteration", "z_learning_on", "z_learning_off");

  // Settings tuned once on seed 1 (docs/experiments.md gives the figures):
  /** Adam's step for the gradient method, annealed linearly to 5% (--anneal-lr): a constant
   * step leaves the sampled gradient's noise floor above 1%. */
  static final double GRADIENT_LR = 0.1;
  /** V̂ is linear on one-hot states (tabular), fitted by Adam at this rate. */
  static final double VALUE_LR = 0.05;
  static final double LAMBDA = 0.9;
  /** Chain Iteration's KL trust region per batch: each step moves at most this far toward the
   * batch's noisy argmin, so a smaller region averages more batches (0.01 ended 0.5-1.1% above
   * J* on seeds 1-3, 0.005 0.35-0.45% on seeds 1 and 3). */
  static final double CI_MAX_KL = 0.005;
  /** Conjugate-gradient iterations per Chain Iteration step: with more, the Newton step follows
   * the sampled surrogate's noise into directions of little curvature, and J stalls at a few
   * percent above J*. */
  static final int CI_CG_ITERATIONS = 3;
  /** c of Z-learning's η_x = c / (c + n_x): a few times the number of steps a value needs to
   * propagate from the goal (about 20 here); 10 decays too early, 100 averages too slowly. */
  static final double Z_STEP_SCALE = 30;

  /**
   * How much each method samples: {@code lanes} × {@code stepsPerLane} steps per iteration for
   * the gradient method and both Z-learnings, and a larger batch for Chain Iteration, whose
   * Newton step takes each batch's surrogate at its word and so needs its noise small.
   */
  public record Budget(int lanes, int stepsPerLane, int gradientIterations, int zIterations,
      int ciLanes, int ciStepsPerLane, int ciIterations) {
    public Budget {
      int[] values = {lanes, stepsPerLane, gradientIterations, zIterations, ciLanes,
          ciStepsPerLane, ciIterations};
      String[] names = {"lanes", "stepsPerLane", "gradientIterations", "zIterations", "ciLanes",
          "ciStepsPerLane", "ciIterations"};
      for (int i = 0; i < values.length; i++) {
        if (values[i] < 1) {
          throw new IllegalArgumentException(names[i] + ": expected >= 1, got " + values[i]);
        }
      }
    }

    /** The budget of {@code dsogym experiment lmdp}. */
    public static Budget full() {
      return new Budget(16, 64, 1000, 1000, 64, 512, 60);
    }
  }

  private final Budget budget;

  public LmdpExperiment() {
    this(Budget.full());
  }

  public LmdpExperiment(Budget budget) {
    this.budget = budget;
  }

  /** The problems, in result and figure order. */
  public static List<LmdpProblems.Problem> problems() {
    return List.of(LmdpProblems.gridworld(8, 0.5), LmdpProblems.gaussian(41, 2, 1, 0.1));
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String summary() {
    return "LMDPs: gradient (fitted or Z-learned critic), Chain Iteration, Z-learning on- and "
        + "off-chain, against J*";
  }

  /** One method's curve: after each iteration, the samples so far and the exact J of its θ. */
  private record Curve(long[] iteration, long[] samples, double[] objective, double seconds,
      Map<String, Object> settings) {}

  @Override
  public Map<String, Object> run(long seed, Path out, PrintStream console) throws Exception {
    Files.createDirectories(out);
    long start = System.nanoTime();
    Map<String, Object> problemResults = new LinkedHashMap<>();
    StringBuilder csv = new StringBuilder("problem,method,iteration,samples,objective,"
        + "relative_gap\n");
    List<GapFigure.Panel> panels = new ArrayList<>();
    List<LmdpProblems.Problem> problems = problems();
    for (int pi = 0; pi < problems.size(); pi++) {
      LmdpProblems.Problem problem = problems.get(pi);
      LmdpChain chain = problem.chain();
      double optimum = optimalObjective(chain);
      double initial = objective(chain, new double[chain.numParams()]);
      console.printf(Locale.ROOT, "[experiment lmdp] %s: %s; %d parameters; J(θ0 = passive) = "
          + "%.6g, J* = %.6g%n", problem.name(), problem.description(), chain.numParams(),
          initial, optimum);
      Map<String, Curve> curves = new LinkedHashMap<>();
      long base = seed * 1_000_003L + 101L * pi;
      Path dir = out.resolve(problem.name());
      curves.put("gradient", trainer(problem, optimum, "gradient", false, budget.lanes(),
          budget.stepsPerLane(), budget.gradientIterations(), seed, base, dir));
      report(console, problem.name(), "gradient", curves.get("gradient"), optimum);
      curves.put("gradient_z_critic", trainer(problem, optimum, "gradient", true,
          budget.lanes(), budget.stepsPerLane(), budget.gradientIterations(), seed, base, dir));
      report(console, problem.name(), "gradient_z_critic", curves.get("gradient_z_critic"),
          optimum);
      curves.put("chain_iteration", trainer(problem, optimum, "chain-iteration", false,
          budget.ciLanes(), budget.ciStepsPerLane(), budget.ciIterations(), seed, base + 1, dir));
      report(console, problem.name(), "chain_iteration", curves.get("chain_iteration"), optimum);
      curves.put("z_learning_on", zLearning(chain, false, base + 2));
      report(console, problem.name(), "z_learning_on", curves.get("z_learning_on"), optimum);
      curves.put("z_learning_off", zLearning(chain, true, base + 3));
      report(console, problem.name(), "z_learning_off", curves.get("z_learning_off"), optimum);

      Map<String, Object> methods = new LinkedHashMap<>();
      for (Map.Entry<String, Curve> e : curves.entrySet()) {
        methods.put(e.getKey(), methodResult(e.getValue(), optimum));
        Curve c = e.getValue();
        for (int i = 0; i < c.objective().length; i++) {
          csv.append(String.format(Locale.ROOT, "%s,%s,%d,%d,%.10g,%.6g%n", problem.name(),
              e.getKey(), c.iteration()[i], c.samples()[i], c.objective()[i],
              gap(c.objective()[i], optimum)));
        }
      }
      Map<String, Object> pr = new LinkedHashMap<>();
      pr.put("description", problem.description());
      pr.put("states", chain.numStates());
      pr.put("parameters", chain.numParams());
      pr.put("optimal_objective", optimum);
      pr.put("initial_objective", initial);
      pr.put("initial_relative_gap", gap(initial, optimum));
      pr.put("methods", methods);
      problemResults.put(problem.name(), pr);
      panels.add(panel(problem.name() + ": gap against iterations", "iterations", curves,
          optimum, false));
      panels.add(panel(problem.name() + ": gap against samples", "samples (chain steps)",
          curves, optimum, true));
    }
    Path curvesFile = out.resolve("curves.csv");
    Files.writeString(curvesFile, csv.toString(), StandardCharsets.UTF_8);
    Path figure = out.resolve("lmdp.png");
    GapFigure.write(figure, String.format(Locale.ROOT, "LMDPs: relative gap to the exact "
        + "optimum J* (seed %d)", seed), panels, 2, TARGET_GAP, "1%", 1e-6);

    Map<String, Object> result = new LinkedHashMap<>();
    result.put("experiment", NAME);
    result.put("seed", seed);
    result.put("wall_seconds", (System.nanoTime() - start) / 1e9);
    result.put("relative_gap", "(J - J*)/|J*|: J the exact first-exit cost of the method's θ "
        + "(for Z-learning, θ fitted to u ∝ p ẑ by KL regression), J* = Σ P0 (-ln z)");
    result.put("samples_to_1pct", "samples at the first evaluation from which the gap stays <= "
        + TARGET_GAP + " to the end; null if the final gap is above it");
    result.put("figure", figure.getFileName().toString());
    result.put("curves", curvesFile.getFileName().toString());
    // the gridworld's figures at the top level, as the first problem
    @SuppressWarnings("unchecked")
    Map<String, Object> first = (Map<String, Object>) problemResults.values().iterator().next();
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Object>> firstMethods =
        (Map<String, Map<String, Object>>) first.get("methods");
    Map<String, Object> top = new LinkedHashMap<>();
    for (Map.Entry<String, Map<String, Object>> e : firstMethods.entrySet()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("final_relative_gap", e.getValue().get("final_relative_gap"));
      m.put("samples_to_1pct", e.getValue().get("samples_to_1pct"));
      top.put(e.getKey(), m);
    }
    result.put("methods_problem", problems.get(0).name());
    result.put("methods", top);
    result.put("problems", problemResults);
    ResultJson.write(out.resolve("result.json"), result);
    console.printf(Locale.ROOT, "[experiment lmdp] wrote %s and %s in %.1f s%n",
        out.resolve("result.json"), figure, (Double) result.get("wall_seconds"));
    return result;
  }

  /** J(θ) of the LMDP's controlled chain: first exit, γ = 1 (docs/math.md §1a). */
  static double objective(LmdpChain chain, double[] theta) {
    return TabularExact.discounted(chain, 1.0, theta).objective;
  }

  /** J* = Σ_x P0(x) V*(x), V* = -ln z (docs/math.md §5). */
  static double optimalObjective(LmdpChain chain) {
    double[] v = LmdpExact.optimal(chain).optimalValue;
    double[] p0 = chain.initialDistribution();
    double j = 0;
    for (int x = 0; x < v.length; x++) {
      j += p0[x] * v[x];
    }
    return j;
  }

  static double gap(double objective, double optimum) {
    return (objective - optimum) / Math.abs(optimum);
  }

  /** The Trainer with {@code algo} on the problem's chain, sampled in Java, exact J each batch. */
  private Curve trainer(LmdpProblems.Problem problem, double optimum, String algo,
      boolean zCritic, int lanes, int stepsPerLane, int iterations, long seed, long samplerSeed,
      Path problemDir) throws Exception {
    LmdpChain chain = problem.chain();
    int n = chain.numStates();
    long batch = (long) lanes * stepsPerLane;
    Map<String, String> options = new LinkedHashMap<>();
    options.put("--algo", algo);
    options.put("--source", "java");
    options.put("--seed", Long.toString(seed));
    options.put("--gamma", "1");
    options.put("--lambda", Double.toString(LAMBDA));
    options.put("--num-envs", Integer.toString(lanes));
    options.put("--steps-per-lane", Integer.toString(stepsPerLane));
    options.put("--max-steps", Long.toString(batch * iterations));
    options.put("--eval-every", Long.toString(batch));  // the exact J after every batch
    options.put("--value-hidden", "");
    options.put("--value-lr", Double.toString(VALUE_LR));
    if (algo.equals("gradient")) {
      options.put("--lr", Double.toString(GRADIENT_LR));
      options.put("--anneal-lr", "true");
    } else {
      options.put("--max-kl", Double.toString(CI_MAX_KL));
      options.put("--ci-steps", "1");
      options.put("--cg-iters", Integer.toString(CI_CG_ITERATIONS));
    }
    TrainConfig config = TrainPresets.config("lmdp-" + problem.name(), options);
    ExactObjective exact = new ExactObjective() {
      @Override
      public double objective(double[] theta) {
        return LmdpExperiment.objective(chain, theta);
      }

      @Override
      public double optimum() {
        return optimum;
      }

      @Override
      public String describe() {
        return "first-exit LMDP cost (linear solve; J* = Σ P0 (-ln z))";
      }
    };
    String key = !algo.equals("gradient") ? "chain_iteration"
        : zCritic ? "gradient_z_critic" : "gradient";
    Path dir = problemDir.resolve(key);
    Files.createDirectories(dir);
    long start = System.nanoTime();
    try (OutputStream logFile = Files.newOutputStream(dir.resolve("train.log"));
        PrintStream log = new PrintStream(logFile, true, StandardCharsets.UTF_8)) {
      Trainer trainer = new Trainer(config, new KnownChainSource<>(chain,
          x -> KnownChainSource.oneHot(x, n), n, lanes, samplerSeed),
          new double[chain.numParams()], exact, dir, log);
      if (zCritic) {
        // V̂ = −ln ẑ, Z-learned off-chain from the trainer's own batches (the same batches
        // as the gradient method's: same sampler seed, same θ_0)
        trainer.withCritic(new ZCritic(chain, new ZLearning(chain, Z_STEP_SCALE, 1.0)));
      }
      trainer.run();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    List<double[]> rows = MetricsLog.read(dir.resolve("metrics.csv"));
    int it = MetricsLog.COLUMNS.indexOf("iteration");
    int steps = MetricsLog.COLUMNS.indexOf("env_steps");
    int j = MetricsLog.COLUMNS.indexOf("exact_objective");
    long[] iteration = new long[rows.size()];
    long[] samples = new long[rows.size()];
    double[] objective = new double[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      iteration[i] = (long) rows.get(i)[it];
      samples[i] = (long) rows.get(i)[steps];
      objective[i] = rows.get(i)[j];
    }
    Map<String, Object> settings = new LinkedHashMap<>(options);
    settings.remove("--seed");
    settings.put("run_directory", problem.name() + "/" + key);
    return new Curve(iteration, samples, objective, seconds, settings);
  }

  /**
   * Z-learning (docs/math.md §5), one batch of lanes × steps per iteration from the passive
   * dynamics (on-chain) or from the current chain θ_k (off-chain); then θ is fitted to u ∝ p ẑ.
   */
  private Curve zLearning(LmdpChain chain, boolean offChain, long samplerSeed) {
    long start = System.nanoTime();
    int iterations = budget.zIterations();
    ZLearning z = new ZLearning(chain, Z_STEP_SCALE, 1.0);
    SplittableRandom rng = new SplittableRandom(samplerSeed);
    double[] passiveTheta = new double[chain.numParams()];  // θ = 0 is the passive chain
    double[] theta = new double[chain.numParams()];
    long[] iteration = new long[iterations];
    long[] samples = new long[iterations];
    double[] objective = new double[iterations];
    long sampled = 0;
    KlRegression.Options fit = KlRegression.Options.defaults();
    for (int k = 0; k < iterations; k++) {
      double[] behaviour = offChain ? theta.clone() : passiveTheta;
      ChainRollouts<Integer> batch = ChainRollouts.episodes(chain, behaviour, budget.lanes(),
          budget.stepsPerLane(), rng);
      z.learn(batch, offChain ? chain.transitionMatrix(behaviour) : chain.passive());
      sampled += batch.batch.size();
      KlRegression.fit(chain, LmdpExact.chainOf(chain, z.desirability()), z.visits(), theta,
          fit);
      iteration[k] = k + 1;
      samples[k] = sampled;
      objective[k] = objective(chain, theta);
    }
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("lanes", budget.lanes());
    settings.put("steps_per_lane", budget.stepsPerLane());
    settings.put("iterations", iterations);
    settings.put("step_size", "c / (c + n_x), c = " + Z_STEP_SCALE);
    settings.put("initial_desirability", 1.0);
    settings.put("behaviour", offChain ? "the current chain P(·|·,θ_k)" : "the passive dynamics");
    settings.put("scored", "θ fitted to u ∝ p ẑ by KL regression, states weighted by visits");
    return new Curve(iteration, samples, objective, (System.nanoTime() - start) / 1e9,
        settings);
  }

  private static Map<String, Object> methodResult(Curve c, double optimum) {
    int last = c.objective().length - 1;
    double[] gaps = new double[c.objective().length];
    for (int i = 0; i < gaps.length; i++) {
      gaps[i] = gap(c.objective()[i], optimum);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("final_relative_gap", gaps[last]);
    m.put("samples_to_1pct", samplesToTarget(c.samples(), gaps));
    m.put("final_objective", c.objective()[last]);
    m.put("iterations", c.iteration()[last]);
    m.put("samples", c.samples()[last]);
    m.put("seconds", c.seconds());
    m.put("settings", c.settings());
    return m;
  }

  /**
   * The samples at the first evaluation from which every later gap is <= the target (a target
   * reached and lost again does not count), or null when the final gap is above it.
   */
  static Long samplesToTarget(long[] samples, double[] gaps) {
    Long reached = null;
    for (int i = gaps.length - 1; i >= 0 && gaps[i] <= TARGET_GAP; i--) {
      reached = samples[i];
    }
    return reached;
  }

  private static void report(PrintStream console, String problem, String method, Curve c,
      double optimum) {
    double[] gaps = new double[c.objective().length];
    for (int i = 0; i < gaps.length; i++) {
      gaps[i] = gap(c.objective()[i], optimum);
    }
    Long reached = samplesToTarget(c.samples(), gaps);
    console.printf(Locale.ROOT, "[experiment lmdp] %s %-15s final gap %.4f%% after %,d "
            + "iterations, %,d samples; within 1%% from %s samples on; %.1f s%n", problem, method,
        100 * gaps[gaps.length - 1], c.iteration()[gaps.length - 1],
        c.samples()[gaps.length - 1],
        reached == null ? "-" : String.format(Locale.ROOT, "%,d", reached), c.seconds());
  }

  private static GapFigure.Panel panel(String title, String xLabel, Map<String, Curve> curves,
      double optimum, boolean bySamples) {
    Color[] colors = {new Color(31, 119, 180), new Color(23, 190, 207), new Color(214, 39, 40),
        new Color(44, 160, 44), new Color(148, 103, 189)};
    String[] labels = {"gradient (Algorithm 1 + Adam)", "gradient, Z-learning critic",
        "Chain Iteration", "Z-learning on-chain", "Z-learning off-chain"};
    List<GapFigure.Series> series = new ArrayList<>();
    int i = 0;
    for (String method : METHODS) {
      Curve c = curves.get(method);
      double[] x = new double[c.objective().length];
      double[] y = new double[x.length];
      for (int k = 0; k < x.length; k++) {
        x[k] = bySamples ? c.samples()[k] : c.iteration()[k];
        y[k] = gap(c.objective()[k], optimum);
      }
      series.add(new GapFigure.Series(labels[i], colors[i], x, y));
      i++;
    }
    return new GapFigure.Panel(title, xLabel, series);
  }

}
