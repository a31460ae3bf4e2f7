package io.dsogym.experiment;

import io.dsogym.collect.ImitationLoop;
import io.dsogym.collect.PolicyLoop;
import io.dsogym.collect.ServerSideCollector;
import io.dsogym.env.AutoresetMode;
import io.dsogym.env.Env;
import io.dsogym.env.PreviousActionObservation;
import io.dsogym.env.Space;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.env.VectorEnv;
import io.dsogym.envs.classic.CartPole;
import io.dsogym.optim.Adam;
import io.dsogym.policy.EnvActions;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.ObservationEncoder;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policies;
import io.dsogym.policy.PolicySpec;
import io.dsogym.train.Evaluator;
import io.dsogym.train.MetricsLog;
import io.dsogym.train.TrainConfig;
import io.dsogym.train.TrainPresets;
import io.dsogym.train.Trainer;
import java.awt.Color;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * {@code experiment cloning}: behavioural cloning on CartPole-v1 (docs/math.md §6). The expert
 * is a fixed linear rule, push right when K·x > 0, which holds the pole for 500 steps from
 * every start. The learner is a linear softmax policy that sees the state, or the state and
 * its own previous action ({@link Setting}); each label is one expert action at one state.
 *
 * <ul>
 *   <li>DSO: the chain is the learner's own closed loop ({@link ImitationLoop}), its cost the
 *       imitation loss −ln π(a*(x)|x,θ) at the states the learner visits, in the average-cost
 *       setting (a fall restarts the chain, so falling never lowers the cost). Each transition
 *       costs one label. Also without the score term, to show what it adds.
 *   <li>Plain BC: N labelled states drawn from the expert's own episodes (i.i.d. from 10
 *       whole episodes, BC's most favourable dataset; or in time order), fitted by maximum
 *       likelihood, for N on a doubling grid up to the DSO run's labels.
 * </ul>
 *
 * All are judged by the greedy policy's mean return over the same 10 evaluation episodes;
 * labels to threshold is the grid count from which every later grid evaluation stays at 475
 * or above (a target reached and lost again does not count), null if the last one is below.
 */
public final class CloningExperiment implements Experiment {
  /** The expert's gain on (x, ẋ, ϑ, ϑ̇): right when K·x > 0. */
  static final double[] EXPERT = {0.5, 1.0, 10.0, 1.5};
  static final double THRESHOLD = 475;
  static final int EVAL_EPISODES = 10;
  /** The expert episodes BC's datasets are drawn from. */
  static final int EXPERT_EPISODES = 10;

  /** DSO's label budget, its batch (lanes x steps) and its evaluation spacing; BC's grid. */
  record Budget(long labels, int lanes, int stepsPerLane, long evalEvery, int bcSmallest) {
    static final Budget FULL = new Budget(8_192, 2, 16, 32, 32);

    /** The label counts both methods are judged at: bcSmallest, doubling, to labels. */
    long[] grid() {
      return java.util.stream.LongStream.iterate(bcSmallest, n -> n <= labels, n -> n * 2)
          .toArray();
    }
  }

  @Override
  public String name() {
    return "cloning";
  }

  @Override
  public String summary() {
    return "behavioural cloning on CartPole: DSO on the learner's own states vs plain BC";
  }

  @Override
  public Map<String, Object> run(long seed, Path out, PrintStream console) throws Exception {
    return run(seed, out, console, Budget.FULL);
  }

  /**
   * What the learner observes: CartPole's state, or the state and its own previous action (a
   * cue that predicts the expert's next action on the expert's episodes, and misleads on the
   * learner's: {@link PreviousActionObservation}).
   */
  enum Setting {
    STATE("state", false), STATE_AND_PREVIOUS_ACTION("state_and_previous_action", true);

    final String key;
    final boolean previousAction;

    Setting(String key, boolean previousAction) {
      this.key = key;
      this.previousAction = previousAction;
    }

    /** {@code n} Java-native CartPole-v1 lanes as this setting's learner observes them. */
    VectorEnv lanes(int n) {
      List<Env> envs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        envs.add(previousAction ? new PreviousActionObservation(new CartPole())
            : new CartPole());
      }
      return new SyncVectorEnv(envs, AutoresetMode.SAME_STEP);
    }
  }

  Map<String, Object> run(long seed, Path out, PrintStream console, Budget budget)
      throws Exception {
    Files.createDirectories(out);
    long start = System.nanoTime();
    long[] grid = budget.grid();
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("experiment", name());
    result.put("seed", seed);
    result.put("threshold", THRESHOLD);
    Map<String, Object> settings = new LinkedHashMap<>();
    Map<Setting, Map<String, Curve>> curves = new LinkedHashMap<>();
    for (Setting setting : Setting.values()) {
      Map<String, Curve> methods = methods(setting, seed, budget, out.resolve(setting.key),
          result);
      curves.put(setting, methods);
      Map<String, Object> table = new LinkedHashMap<>();
      methods.forEach((name, curve) -> {
        table.put(name, curve.summary(grid));
        console.printf(Locale.ROOT, "[cloning] %s, %s: %s%n", setting.key, name,
            curve.describe());
      });
      settings.put(setting.key, table);
    }
    // the headline: the setting with a covariate shift for DSO's score term to correct
    Map<String, Curve> headline = curves.get(Setting.STATE_AND_PREVIOUS_ACTION);
    result.put("headline_setting", Setting.STATE_AND_PREVIOUS_ACTION.key);
    result.put("dso_labels_to_threshold", headline.get("dso").at(grid).keptFrom());
    result.put("bc_labels_to_threshold", headline.get("bc").at(grid).keptFrom());
    result.put("dso_curve", headline.get("dso").json());
    result.put("bc_curve", headline.get("bc").json());
    result.put("settings", settings);
    result.put("expert_gain", EXPERT);
    result.put("wall_seconds", (System.nanoTime() - start) / 1e9);
    result.put("figure", "cloning.png");
    figure(out, curves);
    ResultJson.write(out.resolve("result.json"), result);
    console.printf(Locale.ROOT, "[cloning] labels to %.0f, kept at every doubling, learner "
        + "seeing its previous action: DSO %s, plain BC %s%n", THRESHOLD,
        result.get("dso_labels_to_threshold"), result.get("bc_labels_to_threshold"));
    return result;
  }

  /** The four methods in one setting; puts the expert's mean return into {@code result}. */
  private static Map<String, Curve> methods(Setting setting, long seed, Budget budget, Path dir,
      Map<String, Object> result) throws Exception {
    try (VectorEnv eval = setting.lanes(EVAL_EPISODES)) {
      MlpPolicy policy = Policies.forEnv(eval.spec(), List.of(), PolicySpec.Activation.TANH,
          0);
      ObservationNormalizer raw = new ObservationNormalizer(policy.obsDim(), false, 10.0);
      long evalSeed = seed * 1_000_003L + 77;
      ExpertEpisodes expert = ExpertEpisodes.record(setting, seed * 31 + 5);
      result.put("expert_mean_return", Evaluator.mean(expert.returns()));
      Map<String, Curve> methods = new LinkedHashMap<>();
      methods.put("dso", dso(setting, seed, budget, policy, raw, eval, evalSeed, true,
          dir.resolve("dso")));
      methods.put("dso_without_score_term", dso(setting, seed, budget, policy, raw, eval,
          evalSeed, false, dir.resolve("dso-without-score-term")));
      methods.put("bc", bc(seed, budget, policy, raw, eval, evalSeed, expert.states(), false));
      methods.put("bc_whole_episodes", bc(seed, budget, policy, raw, eval, evalSeed,
          expert.states(), true));
      return methods;
    }
  }

  /** Mean greedy return against labels used. */
  record Curve(long[] labels, double[] meanReturn) {
    /** The label count from which every evaluation is at threshold, or null. */
    Long keptFrom() {
      Long from = null;
      for (int i = labels.length - 1; i >= 0 && meanReturn[i] >= THRESHOLD; i--) {
        from = labels[i];
      }
      return from;
    }

    /** The evaluations at the given label counts (those this curve has). */
    Curve at(long[] grid) {
      List<Integer> kept = new ArrayList<>();
      for (int i = 0; i < labels.length; i++) {
        if (Arrays.binarySearch(grid, labels[i]) >= 0) {
          kept.add(i);
        }
      }
      return new Curve(kept.stream().mapToLong(i -> labels[i]).toArray(),
          kept.stream().mapToDouble(i -> meanReturn[i]).toArray());
    }

    Long firstAt() {
      for (int i = 0; i < labels.length; i++) {
        if (meanReturn[i] >= THRESHOLD) {
          return labels[i];
        }
      }
      return null;
    }

    double last() {
      return meanReturn[meanReturn.length - 1];
    }

    List<Map<String, Object>> json() {
      List<Map<String, Object>> rows = new ArrayList<>();
      for (int i = 0; i < labels.length; i++) {
        rows.add(Map.of("labels", labels[i], "mean_return", meanReturn[i]));
      }
      return rows;
    }

    /** Judged on the grid; a curve evaluated more often also says when it kept the target. */
    Map<String, Object> summary(long[] grid) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("labels_to_threshold", at(grid).keptFrom());
      m.put("kept_from_every_evaluation", keptFrom());
      m.put("first_at_threshold", firstAt());
      m.put("final_return", last());
      m.put("curve", json());
      return m;
    }

    String describe() {
      return String.format(Locale.ROOT, "%d evaluations, last %.1f at %,d labels; at %.0f "
          + "first at %s, kept from %s", labels.length, last(), labels[labels.length - 1],
          THRESHOLD, firstAt(), keptFrom());
    }
  }

  /** Trains the learner in its own closed loop on the imitation cost; one label a step. */
  private static Curve dso(Setting setting, long seed, Budget budget, MlpPolicy policy,
      ObservationNormalizer raw, VectorEnv evalEnv, long evalSeed, boolean scoreTerm, Path dir)
      throws Exception {
    Files.createDirectories(dir);
    Map<String, String> o = new LinkedHashMap<>();
    o.put("--source", "java");
    // PCO's epochs reuse each batch's labels (the ratio term is clipped, the cost term is
    // exact at the recorded states); chosen over natural gradient and Chain Iteration by a
    // small sweep (docs/experiments.md)
    o.put("--algo", "pco");
    o.put("--lr", "0.03");
    o.put("--epochs", "30");
    o.put("--setting", "average");
    o.put("--hidden", "");
    o.put("--normalize-obs", "false");
    o.put("--num-envs", String.valueOf(budget.lanes()));
    o.put("--steps-per-lane", String.valueOf(budget.stepsPerLane()));
    o.put("--max-steps", String.valueOf(budget.labels()));
    o.put("--eval-every", String.valueOf(budget.evalEvery()));
    o.put("--target-return", String.valueOf(THRESHOLD));
    o.put("--seed", String.valueOf(seed));
    TrainConfig config = TrainPresets.config(CartPole.ID, o);
    try (VectorEnv lanes = setting.lanes(budget.lanes());
        OutputStream logFile = Files.newOutputStream(dir.resolve("train.log"));
        PrintStream log = new PrintStream(logFile, true, StandardCharsets.UTF_8)) {
      ServerSideCollector collector = new ServerSideCollector(lanes, policy,
          new SplittableRandom(seed * 1_000_003L));
      collector.reset(seed);
      ImitationLoop source = new ImitationLoop(new PolicyLoop(collector, policy, raw),
          CloningExperiment::expert, scoreTerm);
      // every evaluation uses the same episodes, BC's too, so the curves differ only by θ
      new Trainer(config, source, policy.initialTheta(seed),
          (theta, s) -> Evaluator.evaluate(evalEnv, policy, theta, raw, EVAL_EPISODES,
              evalSeed), dir, log).run();
    }
    List<double[]> rows = MetricsLog.read(dir.resolve("metrics.csv"));
    int steps = MetricsLog.COLUMNS.indexOf("env_steps");
    int eval = MetricsLog.COLUMNS.indexOf("eval_mean_return");
    List<double[]> evaluated = rows.stream().filter(r -> !Double.isNaN(r[eval])).toList();
    long[] labels = new long[evaluated.size()];
    double[] mean = new double[evaluated.size()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = (long) evaluated.get(i)[steps];
      mean[i] = evaluated.get(i)[eval];
    }
    return new Curve(labels, mean);
  }

  /**
   * Plain BC: for each N on a doubling grid, N states drawn from the expert's episodes, the
   * learner fitted to their labels by maximum likelihood from the same θ_0 as DSO's.
   */
  private static Curve bc(long seed, Budget budget, MlpPolicy policy, ObservationNormalizer raw,
      VectorEnv evalEnv, long evalSeed, double[] pool, boolean wholeEpisodes) {
    int d = policy.obsDim();
    int poolSize = pool.length / d;
    long[] labels = budget.grid();
    double[] mean = new double[labels.length];
    SplittableRandom rng = new SplittableRandom(seed * 7_919L + 3);
    for (int j = 0; j < labels.length; j++) {
      int n = (int) labels[j];
      double[] x = new double[n * d];
      double[] a = new double[n];
      for (int i = 0; i < n; i++) {
        int row = wholeEpisodes ? i % poolSize : rng.nextInt(poolSize);
        System.arraycopy(pool, row * d, x, i * d, d);
        expert(x, i * d, a, i);
      }
      double[] theta = fit(policy, policy.initialTheta(seed), x, a, n);
      mean[j] = Evaluator.mean(Evaluator.evaluate(evalEnv, policy, theta, raw, EVAL_EPISODES,
          evalSeed));
    }
    return new Curve(labels, mean);
  }

  /** Full-batch Adam on the mean −ln π(a_i|x_i,θ); separable labels, so a fixed budget. */
  static double[] fit(MlpPolicy policy, double[] theta0, double[] x, double[] a, int n) {
    double[] theta = theta0.clone();
    double[] grad = new double[theta.length];
    Adam adam = new Adam(0.05);
    int d = policy.obsDim();
    for (int step = 0; step < 2_000; step++) {
      Arrays.fill(grad, 0);
      for (int i = 0; i < n; i++) {
        policy.accumulateScore(theta, x, i * d, a, i, -1.0 / n, grad);  // ∇ of −mean ln π
      }
      adam.step(theta, grad);
    }
    return theta;
  }

  /**
   * {@link #EXPERT_EPISODES} whole episodes of the expert: their states (episode after episode,
   * each in time order) and returns.
   */
  record ExpertEpisodes(double[] states, double[] returns) {
    static ExpertEpisodes record(Setting setting, long resetSeed) {
      int lanes = EXPERT_EPISODES;
      try (VectorEnv env = setting.lanes(lanes)) {
        ObservationEncoder encoder = ObservationEncoder.forSpace(
            env.spec().observationSpace());
        int d = encoder.dim();
        double[] obs = encoder.encode(env.reset(new long[] {resetSeed}).observations(), lanes,
            "reset observations");
        double[] returns = new double[lanes];
        boolean[] running = new boolean[lanes];
        Arrays.fill(running, true);
        double[] actions = new double[lanes];
        List<List<double[]>> episodes = new ArrayList<>();
        for (int lane = 0; lane < lanes; lane++) {
          episodes.add(new ArrayList<>());
        }
        Space actionSpace = env.spec().actionSpace();
        int live = lanes;
        while (live > 0) {
          for (int lane = 0; lane < lanes; lane++) {
            expert(obs, lane * d, actions, lane);
            if (running[lane]) {
              episodes.get(lane).add(Arrays.copyOfRange(obs, lane * d, lane * d + d));
            }
          }
          VectorEnv.VectorStepResult r = env.stepWithoutInfo(EnvActions.toEnv(actionSpace,
              actions, lanes, 1));
          obs = encoder.encode(r.observations(), lanes, "step observations");
          for (int lane = 0; lane < lanes; lane++) {
            if (running[lane]) {
              returns[lane] += r.rewards()[lane];
              if (r.terminated()[lane] || r.truncated()[lane]) {
                running[lane] = false;
                live--;
              }
            }
          }
        }
        // episode after episode, each in time order
        List<double[]> states = episodes.stream().flatMap(List::stream).toList();
        double[] flat = new double[states.size() * d];
        for (int i = 0; i < states.size(); i++) {
          System.arraycopy(states.get(i), 0, flat, i * d, d);
        }
        return new ExpertEpisodes(flat, returns);
      }
    }
  }

  static void expert(double[] obs, int off, double[] action, int aOff) {
    double s = 0;
    for (int j = 0; j < EXPERT.length; j++) {
      s += EXPERT[j] * obs[off + j];
    }
    action[aOff] = s > 0 ? 1 : 0;
  }

  private static void figure(Path out, Map<Setting, Map<String, Curve>> curves)
      throws java.io.IOException {
    // short: one panel's width holds the legend
    Map<String, String> labels = Map.of("dso", "DSO", "dso_without_score_term",
        "DSO, no score term", "bc", "BC, i.i.d. states", "bc_whole_episodes", "BC, episodes");
    Color[] colors = {new Color(0x1f77b4), new Color(0x17becf), new Color(0xff7f0e),
        new Color(0xd62728)};
    List<GapFigure.Panel> panels = new ArrayList<>();
    for (Map.Entry<Setting, Map<String, Curve>> setting : curves.entrySet()) {
      List<GapFigure.Series> series = new ArrayList<>();
      int c = 0;
      for (Map.Entry<String, Curve> e : setting.getValue().entrySet()) {
        series.add(new GapFigure.Series(labels.get(e.getKey()), colors[c++ % colors.length],
            toDouble(e.getValue().labels()), e.getValue().meanReturn()));
      }
      panels.add(new GapFigure.Panel(setting.getKey() == Setting.STATE
          ? "the learner sees the state" : "the learner sees the state and its last action",
          "expert labels", "greedy mean return (10 episodes)", series));
    }
    GapFigure.write(out.resolve("cloning.png"), "Behavioural cloning on CartPole-v1", panels,
        2, THRESHOLD, "threshold 475", 1);
  }

  private static double[] toDouble(long[] v) {
    return Arrays.stream(v).asDoubleStream().toArray();
  }
}
