package io.dsogym.experiment;

import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.collect.ServerSideCollector;
import io.dsogym.envs.control.Pendulum;
import io.dsogym.launch.EnvSource;
import io.dsogym.oracle.ChainRollouts;
import io.dsogym.oracle.KnownChainSource;
import io.dsogym.train.ExactObjective;
import io.dsogym.train.MetricsLog;
import io.dsogym.policy.MlpPolicy;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policies;
import io.dsogym.policy.PolicySpec;
import io.dsogym.train.TrainConfig;
import io.dsogym.train.TrainPresets;
import io.dsogym.train.Trainer;
import java.awt.Color;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.ArrayRealVector;
import org.apache.commons.math3.linear.LUDecomposition;

/**
 * {@code experiment sysid}: system identification (docs/math.md §6, §10). Trajectories are
 * recorded from Gymnasium's own Pendulum-v1 through a Python worker, with Gaussian process noise
 * σ on theta_dot' ({@code dsogym/NoisyPendulum-v1}), under random torques. The pendulum's
 * parameters are then estimated two ways, with the Java Pendulum-v1 as the model:
 *
 * <ul>
 *   <li><b>one-step maximum likelihood</b>: maximize the mean ln p(theta_dot'|x,u,φ) over the
 *       recorded transitions (the data distribution as ρ, no chain term), by Fisher scoring
 *       with the model's score;
 *   <li><b>closed-loop multi-step</b>: minimize the model rollout's prediction error over
 *       segments of H steps ({@link PredictionErrorChain}), trained by the DSO trainer.
 * </ul>
 *
 * <p>Only two combinations are identifiable: the dynamics see g, m and l only through
 * a = 3g/(2l) (the gravity term) and b = 3/(m l²) (the torque gain). So θ = (g, m) with l held
 * at 1, and the figures compare a and b with their true values, a = 15 and b = 3 for Gymnasium's
 * g = 10, m = 1, l = 1.
 */
public final class SysidExperiment implements Experiment {
  static final String DATA_ENV = "dsogym/NoisyPendulum-v1";
  /** σ of the process noise in the data, and of the model's own noise. */
  static final double PROCESS_NOISE = 0.05;
  static final double TRUE_G = 10.0;
  /** Where both estimators start: a = 10.5, b = 2 (30% and 33% off). */
  static final double[] START = {7.0, 1.5};

  /** How much data and training a run uses. */
  record Budget(int lanes, int stepsPerLane, int batches, int horizon, long multiStepSteps) {
    static final Budget FULL = new Budget(16, 250, 8, 10, 1_500_000);
  }

  @Override
  public String name() {
    return "sysid";
  }

  @Override
  public String summary() {
    return "recover Pendulum's identifiable parameters from Gymnasium trajectories: one-step "
        + "likelihood and multi-step prediction error";
  }

  @Override
  public Map<String, Object> run(long seed, Path out, PrintStream console) throws Exception {
    return run(seed, out, console, Budget.FULL);
  }

  Map<String, Object> run(long seed, Path out, PrintStream console, Budget budget)
      throws Exception {
    Files.createDirectories(out);
    long start = System.nanoTime();
    SysidData data = record(seed, budget, console);
    double[] oneStep = oneStepMaximumLikelihood(data);
    double[] multiStep = multiStep(data, seed, budget, out.resolve("multi_step"), console);

    Map<String, Object> truth = identifiable(new double[] {TRUE_G, 1.0});
    Map<String, Object> estimated = new LinkedHashMap<>();
    estimated.put("one_step", identifiable(oneStep));
    estimated.put("multi_step", identifiable(multiStep));
    Map<String, Object> errors = new LinkedHashMap<>();
    double worst = 0;
    for (String method : List.of("one_step", "multi_step")) {
      double e = relativeError(method.equals("one_step") ? oneStep : multiStep);
      errors.put(method, e);
      worst = Math.max(worst, e);
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("experiment", name());
    result.put("seed", seed);
    result.put("parameters", "a = 3g/(2l) and b = 3/(m l²), the combinations the dynamics see; "
        + "estimated as (g, m) with l = 1");
    result.put("true", truth);
    result.put("initial", identifiable(START));
    result.put("estimated", estimated);
    result.put("relative_error", errors);
    result.put("max_relative_error", worst);
    result.put("transitions", data.size());
    result.put("process_noise", PROCESS_NOISE);
    result.put("horizon", budget.horizon());
    result.put("wall_seconds", (System.nanoTime() - start) / 1e9);
    result.put("figure", "sysid.png");
    figure(out, data, budget, seed);
    ResultJson.write(out.resolve("result.json"), result);
    console.printf(Locale.ROOT, "[sysid] true a = 15, b = 3; one-step a = %.4f, b = %.4f; "
        + "multi-step a = %.4f, b = %.4f; max relative error %.4f%n",
        gravityTerm(oneStep), torqueGain(oneStep), gravityTerm(multiStep), torqueGain(multiStep),
        worst);
    return result;
  }

  /** Random torques (a zero-mean Gaussian, σ = 1.5, clipped by the env) through a worker. */
  private static SysidData record(long seed, Budget budget, PrintStream console)
      throws Exception {
    String kwargs = String.format(Locale.ROOT, "{\"process_noise\": %s, \"g\": %s}",
        PROCESS_NOISE, TRUE_G);
    List<TrajectoryBatch> batches = new ArrayList<>();
    try (EnvSource source = EnvSource.open("python", DATA_ENV, budget.lanes(), kwargs,
        Duration.ofSeconds(120))) {
      MlpPolicy policy = Policies.forEnv(source.env.spec(), List.of(),
          PolicySpec.Activation.TANH, Math.log(1.5));
      double[] theta = new double[policy.numParams()];
      theta[theta.length - 1] = Math.log(1.5);  // mean 0: the weights stay 0
      ObservationNormalizer none = new ObservationNormalizer(3, false, 10);
      ServerSideCollector collector = new ServerSideCollector(source.env, policy,
          new SplittableRandom(seed * 7_919 + 1));
      collector.reset(seed);
      for (int b = 0; b < budget.batches(); b++) {
        TrajectoryBatch batch = new TrajectoryBatch(3, 1);
        collector.collect(theta, none, budget.stepsPerLane(), batch);
        batches.add(batch);
      }
    }
    SysidData data = new SysidData(batches);
    console.printf(Locale.ROOT, "[sysid] recorded %d transitions of %s through a worker%n",
        data.size(), DATA_ENV);
    return data;
  }

  /**
   * Fisher scoring on the mean log-likelihood: θ += F⁻¹ ḡ with ḡ the mean score and F the
   * mean outer product of the scores, until the step is below 1e-12 relative.
   */
  static double[] oneStepMaximumLikelihood(SysidData data) {
    double[] theta = START.clone();
    for (int it = 0; it < 100; it++) {
      double[] mean = new double[2];
      double[][] fisher = new double[2][2];
      double[] g = new double[3];
      for (int i = 0; i < data.size(); i++) {
        g[0] = 0;
        g[1] = 0;
        g[2] = 0;
        Pendulum.velocityLogDensity(data.theta(i), data.thetaDot(i), data.action(i),
            data.nextThetaDot(i), PredictionErrorChain.physical(theta), PROCESS_NOISE, 1.0, g,
            0);
        for (int r = 0; r < 2; r++) {
          mean[r] += g[r] / data.size();
          for (int c = 0; c < 2; c++) {
            fisher[r][c] += g[r] * g[c] / data.size();
          }
        }
      }
      double[] step = new LUDecomposition(new Array2DRowRealMatrix(fisher)).getSolver()
          .solve(new ArrayRealVector(mean)).toArray();
      theta[0] += step[0];
      theta[1] += step[1];
      if (Math.abs(step[0]) < 1e-12 * Math.abs(theta[0])
          && Math.abs(step[1]) < 1e-12 * Math.abs(theta[1])) {
        break;
      }
    }
    return theta;
  }

  /** The DSO trainer on the prediction-error chain, from {@link #START}. */
  private static double[] multiStep(SysidData data, long seed, Budget budget, Path dir,
      PrintStream console) throws Exception {
    PredictionErrorChain chain = new PredictionErrorChain(data, budget.horizon(),
        PROCESS_NOISE);
    Map<String, String> o = new LinkedHashMap<>();
    o.put("--source", "java");
    o.put("--algo", "gradient");
    o.put("--setting", "finite-horizon");
    o.put("--seed", String.valueOf(seed));
    o.put("--max-steps", String.valueOf(budget.multiStepSteps()));
    o.put("--num-envs", "256");
    o.put("--steps-per-lane", String.valueOf(budget.horizon() + 1));
    o.put("--lr", "0.02");
    o.put("--anneal-lr", "true");
    o.put("--lambda", "0.9");
    o.put("--value-hidden", "");
    o.put("--value-lr", "0.01");
    o.put("--eval-every", String.valueOf(budget.multiStepSteps()));
    TrainConfig config = TrainPresets.config("sysid-multi-step", o);
    // V̂ reads the model's errors against the recording, their squares and product
    KnownChainSource<double[]> source = new KnownChainSource<>(chain, z -> {
      double e = Math.IEEEremainder(z[2] - data.theta(data.at((int) z[0], (int) z[1])),
          2 * Math.PI);
      double v = z[3] - data.thetaDot(data.at((int) z[0], (int) z[1]));
      return new double[] {e, v, e * e, v * v, e * v};
    }, 5, config.numEnvs(), seed * 31 + 7);
    Trainer trainer = new Trainer(config, source, START.clone(), (ExactObjective) null, dir,
        console);
    trainer.run();
    return trainer.theta();
  }

  /**
   * The multi-step run's mean prediction error per segment against env steps, beside that of
   * the true parameters (sampled: 16,384 segments under θ = (10, 1), the same model noise).
   */
  private static void figure(Path out, SysidData data, Budget budget, long seed)
      throws IOException {
    List<double[]> rows = MetricsLog.read(out.resolve("multi_step/metrics.csv"));
    int steps = MetricsLog.COLUMNS.indexOf("env_steps");
    int ret = MetricsLog.COLUMNS.indexOf("train_mean_return");
    double[] x = new double[rows.size()];
    double[] y = new double[rows.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = rows.get(i)[steps];
      y[i] = -rows.get(i)[ret];  // the return is the negated summed error
    }
    PredictionErrorChain chain = new PredictionErrorChain(data, budget.horizon(),
        PROCESS_NOISE);
    ChainRollouts<double[]> r = ChainRollouts.episodes(chain, new double[] {TRUE_G, 1.0},
        16_384, budget.horizon() + 1, new SplittableRandom(seed + 99));
    double truth = 0;
    for (int i = 0; i < r.batch.size(); i++) {
      truth += r.batch.cost[i] / 16_384;
    }
    GapFigure.write(out.resolve("sysid.png"), "Multi-step system identification",
        List.of(new GapFigure.Panel("prediction error per " + budget.horizon()
            + "-step segment", "env steps", "prediction error", List.of(new GapFigure.Series(
                "model at the estimate (DSO, Algorithm 1 + Adam)", new Color(0x1f77b4), x,
                y)))), 1, truth, String.format(Locale.ROOT, "true parameters: %.3f", truth),
        1e-3);
  }

  private static double gravityTerm(double[] theta) {
    return 3 * theta[0] / 2;  // 3g/(2l), l = 1
  }

  private static double torqueGain(double[] theta) {
    return 3 / theta[1];  // 3/(m l²), l = 1
  }

  private static Map<String, Object> identifiable(double[] theta) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("a", gravityTerm(theta));
    m.put("b", torqueGain(theta));
    return m;
  }

  /** The larger relative error of a and b. */
  static double relativeError(double[] theta) {
    double a = Math.abs(gravityTerm(theta) - 1.5 * TRUE_G) / (1.5 * TRUE_G);
    double b = Math.abs(torqueGain(theta) - 3.0) / 3.0;
    return Math.max(a, b);
  }
}
