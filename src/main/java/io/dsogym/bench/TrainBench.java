package io.dsogym.bench;

import static io.dsogym.bench.BridgeBench.median;

import com.google.gson.GsonBuilder;
import io.dsogym.launch.EnvSource;
import io.dsogym.launch.WorkerLauncher;
import io.dsogym.train.MetricsLog;
import io.dsogym.train.TrainConfig;
import io.dsogym.train.TrainPresets;
import io.dsogym.train.Trainer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The training bench ({@code dsogym bench --train}): env-steps/s of a real training run
 * (the env's presets, {@code --source python}, local workers) against raw gymnasium
 * SyncVectorEnv stepping of the same env with the preset's lane count, in the same run. Per
 * repeat: a raw window, a training run of a fixed budget, a raw window; the run's figure is
 * divided by the mean of the raw windows around it (as {@link BridgeBench} does), and the
 * medians over the repeats are reported.
 *
 * <p>Two training figures: {@code train_steps_per_s}, the run's env steps over the trainer's
 * wall clock (summary.json's wall_seconds: from the first collect to the end of the last
 * iteration and of the last evaluation, evaluations and checkpoints included, worker start-up
 * not), and
 * {@code train_steps_per_s_without_eval}, the median of metrics.csv's per-iteration
 * steps_per_second (collect + update of one iteration) over the iterations that did not
 * evaluate.
 *
 * <p>And where the CPU went: the CPU time of this JVM (the learner, its server and its threads)
 * and of the Python processes started for the run (training and evaluation workers) per env
 * step, and {@code cpu_bound_ratio}, the highest ratio that much work per step allows on this
 * machine's cores were they kept busy: cores / (CPU seconds per step × raw steps/s). The JVM's
 * CPU includes its JIT compiler's and its collector's, as the run's wall clock does. A target
 * above it needs less work per step, not better overlap.
 *
 * <p>With several worker counts, a row per env and count: the preset's lanes split over that
 * many local workers ({@code train --num-workers}), so the scaling of training throughput with
 * the workers is measured against the same raw baseline.
 */
public final class TrainBench {
  /** An env's training budget in env steps, and its target ratio (null: none). */
  record EnvDefaults(long trainSteps, Double targetRatio) {}

  /**
   * Env-id prefix -> its defaults (the targets of the issue that asked for this bench). The
   * optimizer and the policy are the env's defaults.
   */
  private static final Map<String, EnvDefaults> DEFAULTS = Map.of(
      "CartPole", new EnvDefaults(50_000L, 0.5),
      "HalfCheetah", new EnvDefaults(100_000L, 0.9),
      "Pendulum", new EnvDefaults(50_000L, 0.3));
  private static final EnvDefaults OTHER_ENV = new EnvDefaults(50_000L, null);

  /**
   * What one training bench measures. Invalid values throw {@link IllegalArgumentException}
   * naming the command-line option.
   *
   * @param envs env ids, a row each
   * @param trainSteps the budget of every run in env steps, or 0 for each env's default
   * @param rawSeconds the length of one raw window
   * @param repeats raw-train-raw cycles per env; the medians are reported
   * @param pythonCpus the CPUs the Python processes are pinned to (raw and workers), or null
   * @param workers the worker counts, a row each per env ({@code train --num-workers})
   * @param out the JSON file written at the end
   */
  public record Options(List<String> envs, long trainSteps, double rawSeconds, int repeats,
      String pythonCpus, List<Integer> workers, Path out) {
    public Options {
      envs = List.copyOf(envs);
      workers = List.copyOf(workers);
      if (workers.isEmpty() || workers.stream().anyMatch(w -> w < 1)) {
        throw new IllegalArgumentException("--workers: expected comma-separated worker "
            + "counts >= 1, got " + workers);
      }
      if (envs.isEmpty() || envs.stream().anyMatch(String::isBlank)) {
        throw new IllegalArgumentException("--envs: expected comma-separated env ids, got "
            + envs);
      }
      if (trainSteps < 0) {
        throw new IllegalArgumentException("--train-steps: expected >= 1 (or none for each "
            + "env's default), got " + trainSteps);
      }
      if (!(rawSeconds > 0)) {
        throw new IllegalArgumentException("--seconds: expected > 0, got " + rawSeconds);
      }
      if (repeats < 1) {
        throw new IllegalArgumentException("--repeats: expected >= 1, got " + repeats);
      }
      if (out == null) {
        throw new IllegalArgumentException("--out: expected a file, got none");
      }
    }
  }

  private TrainBench() {}

  /** The training budget and target ratio of {@code envId}. */
  static EnvDefaults defaults(String envId) {
    return DEFAULTS.entrySet().stream().filter(e -> envId.startsWith(e.getKey()))
        .map(Map.Entry::getValue).findFirst().orElse(OTHER_ENV);
  }

  /** Runs the bench: prints a row per env and worker count, then writes {@code o.out()}. */
  public static void run(Options o, PrintStream out) throws Exception {
    String python = WorkerLauncher.defaultPython();
    // the machine may be shared: its load when the bench began goes into the JSON
    double loadAtStart = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    List<Map<String, Object>> rows = new ArrayList<>();
    out.printf(Locale.ROOT, "%-16s %-8s %5s %7s %9s %10s %10s %10s %7s %9s %7s %8s %8s %7s%n",
        "env", "algo", "lanes", "workers", "steps", "train st/s", "no-eval/s", "raw st/s",
        "ratio", "no-eval r", "target", "learn µs", "work µs", "cpu max");
    for (String env : o.envs()) {
      for (int workers : o.workers()) {
        rows.add(measure(env, workers, o, python, out));
      }
    }
    Map<String, Object> machine = new LinkedHashMap<>();
    machine.put("cores", Runtime.getRuntime().availableProcessors());
    machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    machine.put("java", System.getProperty("java.version"));
    machine.put("load_average_1min_at_start", loadAtStart);
    machine.put("python_cpus", o.pythonCpus() == null ? "any" : o.pythonCpus());
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("date", Instant.now().toString());
    doc.put("machine", machine);
    doc.put("repeats", o.repeats());
    doc.put("raw_seconds_per_window", o.rawSeconds());
    doc.put("statistic", "median over the repeats; per repeat a raw window, a training run, "
        + "a raw window; each ratio is the run's figure over the mean of the raw windows "
        + "around it (raw_steps_per_s: the median of all raw windows)");
    doc.put("train_steps_per_s", "env steps / the trainer's wall clock (summary.json's "
        + "wall_seconds: first collect to the end of the last iteration and of the last "
        + "evaluation, evaluations and checkpoints included, worker start-up not)");
    doc.put("train_steps_per_s_without_eval", "median of metrics.csv's per-iteration "
        + "steps_per_second (collect + update) over the iterations without an evaluation");
    doc.put("training", "the env's presets (TrainPresets: its default optimizer and policy), "
        + "--source python, local workers on the Python CPUs (num_envs / workers lanes each), "
        + "--max-steps train_steps, into a temporary run directory");
    doc.put("baseline", "gymnasium.vector.SyncVectorEnv with the preset's num_envs lanes in one "
        + "Python process, actions pre-sampled (env stepping alone)");
    doc.put("train", rows);
    if (o.out().getParent() != null) {
      Files.createDirectories(o.out().getParent());
    }
    Files.writeString(o.out(), new GsonBuilder().setPrettyPrinting().disableHtmlEscaping()
        .serializeSpecialFloatingPointValues().serializeNulls().create().toJson(doc) + "\n");
    out.println("wrote " + o.out());
  }

  /** One row: raw windows around each training run of {@code env} with {@code workers}. */
  private static Map<String, Object> measure(String env, int workers, Options o, String python,
      PrintStream out) throws Exception {
    EnvDefaults d = defaults(env);
    long budget = o.trainSteps() > 0 ? o.trainSteps() : d.trainSteps();
    TrainConfig config = TrainPresets.config(env, Map.of("--source", "python",
        "--max-steps", Long.toString(budget), "--num-workers", Integer.toString(workers)));
    String algo = config.algo();
    double[] raws = new double[o.repeats() + 1];
    double[] train = new double[o.repeats()];
    double[] trainNoEval = new double[o.repeats()];
    double[] ratios = new double[o.repeats()];
    double[] ratiosNoEval = new double[o.repeats()];
    double[] learnerCpu = new double[o.repeats()];
    double[] workerCpu = new double[o.repeats()];
    long steps = 0;
    // one raw process for the whole row, idle (blocked on stdin) while a run trains
    try (RawBaseline raw = RawBaseline.start(python, env, config.numEnvs(), o.pythonCpus())) {
      raws[0] = raw.stepsPerSecond(o.rawSeconds());
      for (int r = 0; r < o.repeats(); r++) {
        double[] run = trainOnce(config, o.pythonCpus());
        steps = (long) run[0];
        train[r] = run[1];
        trainNoEval[r] = run[2];
        learnerCpu[r] = run[3] / steps;
        workerCpu[r] = run[4] / steps;
        raws[r + 1] = raw.stepsPerSecond(o.rawSeconds());
        double rawAround = (raws[r] + raws[r + 1]) / 2;
        ratios[r] = train[r] / rawAround;
        ratiosNoEval[r] = trainNoEval[r] / rawAround;
      }
    }
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("env_id", env);
    row.put("algo", algo);
    row.put("num_envs", config.numEnvs());
    row.put("workers", workers);
    row.put("hidden", config.policyHidden());
    row.put("train_steps", steps);
    row.put("train_steps_per_s", median(train));
    row.put("train_steps_per_s_without_eval", median(trainNoEval));
    row.put("raw_steps_per_s", median(raws));
    row.put("ratio", median(ratios));
    row.put("ratio_without_eval", median(ratiosNoEval));
    row.put("target_ratio", d.targetRatio());
    double learnerS = median(learnerCpu);
    double workersS = median(workerCpu);
    double cpuBound = Runtime.getRuntime().availableProcessors()
        / ((learnerS + workersS) * median(raws));
    row.put("learner_cpu_us_per_step", learnerS * 1e6);
    row.put("workers_cpu_us_per_step", workersS * 1e6);
    row.put("cpu_bound_ratio", cpuBound);
    Map<String, Object> samples = new LinkedHashMap<>();
    samples.put("raw_steps_per_s", raws);
    samples.put("train_steps_per_s", train);
    samples.put("train_steps_per_s_without_eval", trainNoEval);
    samples.put("ratio", ratios);
    samples.put("ratio_without_eval", ratiosNoEval);
    samples.put("learner_cpu_s_per_step", learnerCpu);
    samples.put("workers_cpu_s_per_step", workerCpu);
    row.put("samples", samples);
    out.printf(Locale.ROOT,
        "%-16s %-8s %5d %7d %9d %10.0f %10.0f %10.0f %7.3f %9.3f %7s %8.1f %8.1f %7.3f%n", env,
        algo, config.numEnvs(), workers, steps, median(train), median(trainNoEval),
        median(raws), median(ratios), median(ratiosNoEval),
        d.targetRatio() == null ? "-" : String.format(Locale.ROOT, ">= %.1f", d.targetRatio()),
        learnerS * 1e6, workersS * 1e6, cpuBound);
    out.flush();
    return row;
  }

  /**
   * One training run: [env steps, steps/s overall, median steps/s of non-eval iterations, CPU
   * seconds of this JVM, CPU seconds of the processes started for it], the CPU times from
   * the training workers' connection to the end of the run: the evaluation worker's start-up
   * and the JIT compiler's warm-up are in, so a short run overstates the work per step.
   */
  private static double[] trainOnce(TrainConfig config, String cpus) throws Exception {
    Path dir = Files.createTempDirectory("dsogym-bench-train");
    try (EnvSource src = EnvSource.open("python", config.envId(), config.numEnvs(),
        config.numWorkers(), config.envKwargsJson(), Duration.ofSeconds(120), cpus)) {
      // the trainer's per-iteration progress would bury the table
      PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
      // from here: the training workers have started (their imports are not the run's work)
      double childrenBefore = childCpuSeconds();
      long learnerBefore = processCpuNanos();
      Map<String, Object> summary = new Trainer(config, src, src.envs, dir, null, quiet).run();
      double learner = (processCpuNanos() - learnerBefore) / 1e9;
      double workers = childCpuSeconds() - childrenBefore;
      double[] f = figures(MetricsLog.read(dir.resolve("metrics.csv")),
          (double) summary.get("wall_seconds"));
      return new double[] {f[0], f[1], f[2], learner, workers};
    } finally {
      deleteTree(dir);
    }
  }

  /** This JVM's CPU time: every thread's, the learner's, the server's and the runtime's. */
  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /**
   * The CPU seconds of the processes under this one: the live ones' (the idle raw baseline's
   * too) and those of the children that ended and were reaped (cutime and cstime of
   * /proc/self/stat), so a worker that exits between two readings still counts. NaN without
   * /proc.
   */
  static double childCpuSeconds() {
    double live = ProcessHandle.current().descendants().mapToDouble(p -> p.info()
        .totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(0.0)).sum();
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      // after the command's closing parenthesis, field k of proc(5) is at index k - 3
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" +");
      long ticks = Long.parseLong(f[16 - 3]) + Long.parseLong(f[17 - 3]);  // cutime, cstime
      return live + ticks / (double) CLOCK_TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /** Linux's USER_HZ, the unit of /proc's CPU times on every architecture Java runs on. */
  private static final int CLOCK_TICKS_PER_SECOND = 100;

  /**
   * metrics.csv's rows and the run's wall clock (evaluations running behind training end after
   * the last row) -> [env steps, steps/s overall, median steps/s without evaluation].
   */
  static double[] figures(List<double[]> rows, double wallSeconds) {
    if (rows.isEmpty()) {
      throw new IllegalStateException("the training run logged no iteration");
    }
    int envSteps = MetricsLog.COLUMNS.indexOf("env_steps");
    int rate = MetricsLog.COLUMNS.indexOf("steps_per_second");
    int eval = MetricsLog.COLUMNS.indexOf("eval_mean_return");
    double[] last = rows.get(rows.size() - 1);
    double[] noEval = rows.stream().filter(r -> Double.isNaN(r[eval])).mapToDouble(r -> r[rate])
        .toArray();
    if (noEval.length == 0) {
      throw new IllegalStateException("every iteration of the training run evaluated: raise "
          + "--train-steps above the preset's --eval-every");
    }
    return new double[] {last[envSteps], last[envSteps] / wallSeconds, median(noEval)};
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
