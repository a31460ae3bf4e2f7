package io.dsogym.cli;

import io.dsogym.launch.EnvSource;
import io.dsogym.server.DsoGymServer;
import io.dsogym.server.ServerOptions;
import io.dsogym.train.Checkpoint;
import io.dsogym.train.TrainConfig;
import io.dsogym.train.TrainPresets;
import io.dsogym.train.Trainer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code train}: a DSO optimizer (Algorithm 1, PCO, natural gradient, Chain Iteration) on an
 * env from Java or from Python workers, with console progress, DIR/metrics.csv (also as a
 * TensorBoard events file), an atomic checkpoint every iteration, DIR/summary.json and
 * DIR/learning_curve.png.
 *
 * <p>The config options are strings that this command does not interpret: the ones the user
 * gave go, as "--option" -> value, to {@link TrainPresets#config}, which applies the env's
 * preset under them and validates the result. Their help shows the generic defaults
 * ({@link TrainDefaults}); "the env's preset" marks the options that some preset sets.
 */
@Command(name = "train", sortOptions = false, showDefaultValues = true,
    abbreviateSynopsis = true, defaultValueProvider = TrainDefaults.class,
    header = "Train a policy with a DSO optimizer.",
    description = {"Algorithm 1, PCO, natural gradient or Chain Iteration on an env from Java "
        + "or from Python workers. Prints its progress and writes to --out DIR: metrics.csv "
        + "(also as TensorBoard events: events.out.tfevents.*), checkpoint.json (what --resume continues), summary.json and learning_curve.png.",
        "",
        "Defaults are per env, and for some envs per algorithm (TrainPresets, listed in "
        + "docs/training.md): where an option says 'the env's preset', an env with a preset for it "
        + "uses the preset's value, any other the value shown. An option given here wins."})
final class TrainCommand implements Callable<Integer> {
  private static final String PRESET = "  Default: the env's preset, else ${DEFAULT-VALUE}.";
  /** How long SIGINT/SIGTERM waits for the iteration in progress and the checkpoint. */
  static final Duration STOP_WAIT = Duration.ofSeconds(60);

  @Option(names = "--env", paramLabel = "ID", description = "The env: a Gymnasium id for "
      + "--source python, a Java-native one (dsogym envs) for --source java. Required unless "
      + "--resume.")
  String env;

  @Option(names = "--source", paramLabel = "java|python", description = "Where the env "
      + "runs: java (Java-native lanes in this process) or python (Gymnasium in Python "
      + "workers: local ones started here, or remote ones with --workers remote).")
  String source;

  @Option(names = "--algo", paramLabel = "ALGO", showDefaultValue = Visibility.NEVER,
      description = {"The optimizer: gradient (Algorithm 1 + Adam), pco (proximal chain "
          + "optimization), natural (natural gradient with a KL trust region) or "
          + "chain-iteration (damped Newton steps on the surrogate).", PRESET})
  String algo;

  @Option(names = "--setting", paramLabel = "SETTING", description = "The cost setting: "
      + "discounted (docs/math.md 1a), average (1b: the long-run cost per step; gamma 1, the "
      + "mean cost subtracted, a differential V) or finite-horizon (1c: each episode's "
      + "undiscounted total; a time-indexed V, and --gamma defaults to 1).")
  String setting;

  @Option(names = "--seed", paramLabel = "S", description = "Seed of the initial parameters, "
      + "the sampling and the env resets.")
  String seed;

  @Option(names = "--max-steps", paramLabel = "N", showDefaultValue = Visibility.NEVER,
      description = {"Training budget in env steps (with --resume: the new budget).", PRESET})
  String maxSteps;

  @Option(names = "--out", paramLabel = "DIR", description = {"Where the run writes "
      + "metrics.csv, TensorBoard events, checkpoint.json, summary.json and "
      + "learning_curve.png.",
      "  Default: runs/ENV-seedSEED."})
  String out;

  @Option(names = "--resume", paramLabel = "DIR", description = "Continue the run "
      + "checkpointed in DIR with its own settings: of the config options only --max-steps "
      + "is read.")
  String resume;

  @Option(names = "--env-kwargs", paramLabel = "JSON", description = "Keyword arguments of "
      + "the env (a JSON object), e.g. {\"ctrl_cost_weight\": 0.1}.")
  String envKwargs;

  @Option(names = "--system-params", paramLabel = "BLOCKS", description = "Also train these "
      + "blocks of the env's own parameters with the policy (comma-separated; docs/math.md 10: "
      + "θ in the dynamics and the cost). Java-native envs that are parametric systems: "
      + "TabularChain-v0 (transition_logits, rewards), LQR-v0 (A, B, Q), Pendulum-v1 (g, m, l) "
      + "and CartPole-v1 (gravity, masscart, masspole, length, force_mag); the last two need "
      + "--env-kwargs '{\"process_noise\": S}' with S > 0.")
  String systemParams;

  @Option(names = "--num-envs", paramLabel = "N", showDefaultValue = Visibility.NEVER,
      description = {"Lanes collected in parallel.", PRESET})
  String numEnvs;

  @Option(names = "--num-workers", paramLabel = "N", description = "Workers collecting each "
      + "batch in parallel, --num-envs / N lanes each: Java lane groups on threads of their "
      + "own (--source java), local Python worker processes, or with --workers remote the "
      + "number of remote workers to wait for.")
  String numWorkers;

  @Option(names = "--batch-quorum", paramLabel = "F", description = "With several workers: a "
      + "batch closes once chunks covering F of the lanes are in (0 < F <= 1; 1 waits for "
      + "every worker); a straggler's chunk joins the next batch, ratio-corrected as "
      + "off-chain.")
  String batchQuorum;

  @Option(names = "--steps-per-lane", paramLabel = "T", showDefaultValue = Visibility.NEVER,
      description = {"Steps per lane per iteration: a batch is --num-envs x --steps-per-lane "
          + "env steps.", PRESET})
  String stepsPerLane;

  @Option(names = "--inference", paramLabel = "auto|server|worker", description = "With "
      + "--source python, who samples the actions: worker (the worker, from the policy's "
      + "parameters, streaming whole chunks), server (this process, one round trip per step) "
      + "or auto (worker wherever the worker can).")
  String inference;

  @Option(names = "--collect-ahead", paramLabel = "true|false", description = "Worker-side "
      + "inference: collect the next batch under theta_k while theta_k+1 is computed (each "
      + "batch one update stale, corrected by the surrogate's ratios).")
  String collectAhead;

  @Option(names = "--hidden", paramLabel = "SIZES", showDefaultValue = Visibility.NEVER,
      description = {"Hidden layer sizes of the policy MLP, e.g. 64,64; empty or none: a "
          + "linear policy.", PRESET})
  String hidden;

  @Option(names = "--activation", paramLabel = "tanh|relu", description = "Activation of "
      + "the hidden layers.")
  String activation;

  @Option(names = "--init-log-std", paramLabel = "X", showDefaultValue = Visibility.NEVER,
      description = {"Initial log standard deviation of a Gaussian policy.", PRESET})
  String initLogStd;

  @Option(names = "--value-hidden", paramLabel = "SIZES", description = "Hidden layer sizes "
      + "of the critic V.")
  String valueHidden;

  @Option(names = "--value-lr", paramLabel = "X", showDefaultValue = Visibility.NEVER,
      description = {"Adam step size of the critic.", PRESET})
  String valueLr;

  @Option(names = "--value-epochs", paramLabel = "N", showDefaultValue = Visibility.NEVER,
      description = {"Critic refit passes over each batch.", PRESET})
  String valueEpochs;

  @Option(names = "--value-minibatch", paramLabel = "N", description = "Critic minibatch "
      + "size.")
  String valueMinibatch;

  @Option(names = "--normalize-obs", paramLabel = "true|false", description = "Normalize "
      + "observations by their running mean and variance (z clipped to +-10).")
  String normalizeObs;

  @Option(names = "--lr", paramLabel = "X", showDefaultValue = Visibility.NEVER,
      description = {"Adam step size of the policy.", PRESET})
  String lr;

  @Option(names = "--gamma", paramLabel = "G", showDefaultValue = Visibility.NEVER,
      description = {"Discount, 0 < G <= 1 (1 with --setting finite-horizon).", PRESET})
  String gamma;

  @Option(names = "--lambda", paramLabel = "L", showDefaultValue = Visibility.NEVER,
      description = {"Mixture of Monte-Carlo returns and critic targets, 0 <= L <= 1.",
          PRESET})
  String lambda;

  @Option(names = "--discount-states", paramLabel = "true|false", description = "Weight "
      + "state x_t by gamma^t as Theorem 1 does (true) or every state equally (false).")
  String discountStates;

  @Option(names = "--normalize-advantages", paramLabel = "true|false", description =
      "Standardize Algorithm 1's weights over each batch.")
  String normalizeAdvantages;

  @Option(names = "--max-grad-norm", paramLabel = "X", description = "gradient, pco: clip "
      + "the gradient (each minibatch's, for pco) to norm X; 0: no clipping.")
  String maxGradNorm;

  @Option(names = "--anneal-lr", paramLabel = "true|false", showDefaultValue =
      Visibility.NEVER, description = {"Shrink the step linearly to 5%% over the run: the "
      + "learning rate, and natural's KL radius (--max-kl).", PRESET})
  String annealLr;

  @Option(names = "--epochs", paramLabel = "N", description = "pco: passes over each batch.")
  String epochs;

  @Option(names = "--minibatches", paramLabel = "N", description = "pco: minibatches per "
      + "pass (Adam steps at --lr).")
  String minibatches;

  @Option(names = "--clip", paramLabel = "EPS", description = "pco: the ratio clip of the "
      + "pessimistic surrogate.")
  String clip;

  @Option(names = "--anneal-clip", paramLabel = "true|false", description = "pco: shrink "
      + "the clip linearly to 0 over the run.")
  String annealClip;

  @Option(names = "--target-kl", paramLabel = "X", description = "pco: stop a batch's "
      + "epochs once the sampled chain KL passes 1.5 x X; 0: never.")
  String targetKl;

  @Option(names = "--max-kl", paramLabel = "X", showDefaultValue = Visibility.NEVER,
      description = {"natural, chain-iteration: the KL trust region of one update.", PRESET})
  String maxKl;

  @Option(names = "--cg-iters", paramLabel = "N", description = "natural, chain-iteration: "
      + "conjugate-gradient iterations.")
  String cgIters;

  @Option(names = "--cg-damping", paramLabel = "X", description = "natural: delta of "
      + "(F + delta I) w = g; chain-iteration: the initial mu.")
  String cgDamping;

  @Option(names = "--ci-steps", paramLabel = "N", description = "chain-iteration: damped "
      + "Newton steps per batch.")
  String ciSteps;

  @Option(names = "--entropy-coef", paramLabel = "B", description = "The maximum-entropy "
      + "chain cost -B H[pi(.|x)] (docs/math.md 2e).")
  String entropyCoef;

  @Option(names = "--kl-coef", paramLabel = "L", description = "The KL chain cost "
      + "L KL(pi(.|x) || pi_ref(.|x)) (docs/math.md 2f); pi_ref is the previous policy unless "
      + "--kl-reference.")
  String klCoef;

  @Option(names = "--bound-coef", paramLabel = "K", description = "The chain cost "
      + "K sum_j max(0, mean_j beyond the action Box)^2 on a Gaussian policy's mean "
      + "(docs/training.md).")
  String boundCoef;

  @Option(names = "--kl-reference", paramLabel = "DIR", description = "Make the KL cost's "
      + "pi_ref the policy checkpointed in run DIR (needs --kl-coef > 0).")
  String klReference;

  @Option(names = "--eval-every", paramLabel = "N", showDefaultValue = Visibility.NEVER,
      description = {"Evaluate every N env steps (deterministic actions on lanes of their "
          + "own, not counted as training steps).", PRESET})
  String evalEvery;

  @Option(names = "--eval-episodes", paramLabel = "K", showDefaultValue = Visibility.NEVER,
      description = {"Episodes per evaluation.", PRESET})
  String evalEpisodes;

  @Option(names = "--target-return", paramLabel = "R", description = {"The evaluation "
      + "return that counts as solved (summary.json's steps_to_threshold).",
      "  Default: the env's preset, else the env's reward threshold."})
  String targetReturn;

  @Option(names = "--on-non-finite", paramLabel = "stop|drop", description = "A batch with "
      + "a NaN or infinite reward, observation or action (named with its worker, lane and "
      + "field) is refused: stop training after a checkpoint of the state before it, or drop "
      + "the batch and go on (stopping after " + Trainer.MAX_DROPPED_IN_A_ROW + " in a row).")
  String onNonFinite;

  /** Where the lanes come from: passed to {@link EnvSource}, never to the config. */
  @Mixin
  WorkerOptions workers = new WorkerOptions();

  /** --workers remote: the server's token and TLS. */
  @Mixin
  ServerSecurity security = new ServerSecurity();

  @Mixin
  EvaluationOptions evaluation = new EvaluationOptions();

  @Mixin
  HelpOption help = new HelpOption();

  @Spec
  CommandSpec spec;

  private final PrintStream console;

  TrainCommand(PrintStream console) {
    this.console = console;
  }

  /** How the run evaluates; not part of the config: the figures are the same either way. */
  static final class EvaluationOptions {
    @Option(names = "--eval-async", paramLabel = "true|false", arity = "1",
        defaultValue = "true", description = "Evaluate on a thread and lanes of their own "
            + "while training goes on (at most " + Trainer.MAX_EVALUATIONS_IN_FLIGHT
            + " behind), or hold training up for each evaluation; the figures are the same.")
    boolean async;
  }

  /** The options of {@link EnvSource}: local or remote Python workers. */
  static final class WorkerOptions {
    @Option(names = "--workers", paramLabel = "local|remote", defaultValue = "local",
        description = "With --source python: local (start Python workers here) or remote "
            + "(listen on --bind:--port and wait for workers started anywhere).")
    String mode;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "50051",
        description = "--workers remote: the port to listen on.")
    int port;

    @Option(names = "--bind", paramLabel = "ADDR", defaultValue = DsoGymServer.DEFAULT_BIND,
        description = "--workers remote: the address to listen on.")
    String bind;

    @Option(names = "--worker-cpus", paramLabel = "LIST", description = "Local Python "
        + "workers: pin them to these CPUs (their --cpus, e.g. 1 or 2-3), such as the one the "
        + "learner leaves free.")
    String cpus;
  }

  @Override
  public Integer call() throws Exception {
    Map<String, String> opts = givenConfigOptions();
    if (!workers.mode.equals("local") && !workers.mode.equals("remote")) {
      throw new UsageError(spec, "--workers: expected local (start Python workers here) or "
          + "remote (wait for workers to connect), got '" + workers.mode + "'");
    }
    Checkpoint.State resumed = null;
    TrainConfig config;
    Path dir;
    if (resume != null) {
      dir = Path.of(resume);
      resumed = Checkpoint.read(dir);
      TrainConfig saved = resumed.config;
      config = !opts.containsKey("--max-steps") ? saved : UsageError.check(spec,
          () -> TrainPresets.withMaxSteps(saved, TrainPresets.longOption(opts, "--max-steps")));
    } else {
      if (env == null) {
        throw new UsageError(spec, "--env: expected an env id, got none");
      }
      config = UsageError.check(spec, () -> TrainPresets.config(env, opts));
      dir = Path.of(out != null ? out : "runs/" + env + "-seed" + config.seed());
    }
    if (!List.of("java", "python").contains(config.source())) {
      throw new UsageError(spec, "--source: expected java or python, got '" + config.source()
          + "'");
    }
    boolean remote = workers.mode.equals("remote");
    if (remote && !config.source().equals("python")) {
      throw new UsageError(spec, "--workers remote: expected --source python, got --source "
          + config.source());
    }
    if (workers.cpus != null && (remote || !config.source().equals("python"))) {
      throw new UsageError(spec, "--worker-cpus: expected local Python workers (--source "
          + "python --workers local), got --source " + config.source() + " --workers "
          + workers.mode);
    }
    StopOnSignal onSignal = new StopOnSignal();
    Runtime.getRuntime().addShutdownHook(onSignal);
    try (EnvSource src = remote
        ? EnvSource.openRemote(config.envId(), workers.bind, workers.port,
            security.apply(ServerOptions.defaults(), spec, System.getenv()),
            Duration.ofHours(1), config.numWorkers(), config.lanesPerWorker())
        : EnvSource.open(config.source(), config.envId(), config.numEnvs(),
            config.numWorkers(), config.envKwargsJson(), Duration.ofSeconds(120),
            workers.cpus)) {
      Trainer trainer = new Trainer(config, src, src.envs, dir, resumed, console)
          .evaluateAsync(evaluation.async);
      onSignal.watch(trainer);
      Map<String, Object> summary = trainer.run();
      if (trainer.stopped()) {
        return 0;
      }
      console.println("[train] summary " + dir.resolve("summary.json") + ":");
      summary.forEach((k, v) -> console.println("  " + k + ": " + v));
      console.println("[train] metrics: " + dir.resolve("metrics.csv") + "; learning curve: "
          + dir.resolve("learning_curve.png") + "; checkpoint: "
          + dir.resolve("checkpoint.json") + "; TensorBoard: tensorboard --logdir " + dir);
    } finally {
      onSignal.runFinished();
    }
    return 0;
  }

  /**
   * The shutdown hook of a run (SIGINT, SIGTERM): asks the trainer, once there is one, to stop
   * after its iteration, and holds the JVM's exit until the run has written its checkpoint and
   * closed its workers (at most {@link #STOP_WAIT}). Before there is a trainer (waiting for
   * workers), it interrupts that wait instead. The exit status stays 130 or 143, so a script
   * can tell a stopped run from a finished one.
   */
  private static final class StopOnSignal extends Thread {
    private static final String REASON = "SIGINT or SIGTERM";
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread runner = Thread.currentThread();
    private Trainer trainer;
    private boolean signalled;

    StopOnSignal() {
      super("dsogym-train-stop");
    }

    /** Called by the run's thread once the lanes are open. */
    synchronized void watch(Trainer t) {
      trainer = t;
      if (signalled) {
        Thread.interrupted();  // the interrupt was for the wait; the checkpoint's file I/O must not see it
        t.requestStop(REASON);  // the signal came while the lanes were being opened
      }
    }

    @Override
    public void run() {
      synchronized (this) {
        signalled = true;
        if (trainer != null) {
          trainer.requestStop(REASON);
        } else {
          runner.interrupt();  // e.g. waiting an hour for remote workers
        }
      }
      try {
        finished.await(STOP_WAIT.toSeconds(), TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    void runFinished() {
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(this);
      } catch (IllegalStateException shuttingDown) {
        // this hook is running: it returns now
      }
    }
  }

  /**
   * The config options the user gave, as "--option" -> value (the last one where an option
   * was given twice): what {@link TrainPresets#config} lays over the env's defaults.
   */
  private Map<String, String> givenConfigOptions() {
    Set<String> notConfig = spec.mixins().values().stream()
        .flatMap(m -> m.options().stream())
        .map(OptionSpec::longestName)
        .collect(Collectors.toSet());
    Map<String, String> opts = new LinkedHashMap<>();
    for (OptionSpec o : spec.commandLine().getParseResult().matchedOptions()) {
      if (!notConfig.contains(o.longestName())) {
        opts.put(o.longestName(), o.getValue());
      }
    }
    return opts;
  }
}
