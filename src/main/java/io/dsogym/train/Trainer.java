package io.dsogym.train;

import io.dsogym.chain.ChainBatch;
import io.dsogym.chain.ChainSource;
import io.dsogym.chain.StateCost;
import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.collect.Collector;
import io.dsogym.collect.NonFiniteValueException;
import io.dsogym.collect.ParallelCollector;
import io.dsogym.collect.PolicyLoop;
import io.dsogym.collect.PolicyTransitions;
import io.dsogym.collect.ServerSideCollector;
import io.dsogym.collect.SystemParameters;
import io.dsogym.dso.ActionBoundCost;
import io.dsogym.dso.AdvantageNormalization;
import io.dsogym.dso.Algorithm1;
import io.dsogym.dso.ChainIteration;
import io.dsogym.dso.Critic;
import io.dsogym.dso.GradientStep;
import io.dsogym.dso.NaturalGradient;
import io.dsogym.dso.PolicyImprovement;
import io.dsogym.dso.PolicyRegularizer;
import io.dsogym.dso.ProximalChainOptimization;
import io.dsogym.dso.Surrogate;
import io.dsogym.dso.ValueFunction;
import io.dsogym.env.Env;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.EnvUnavailableException;
import io.dsogym.env.ParametricSystem;
import io.dsogym.env.Space;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.env.VectorEnv;
import io.dsogym.optim.Adam;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policies;
import io.dsogym.policy.Policy;
import io.dsogym.policy.PolicySpec;
import io.dsogym.remote.RemoteVectorEnv;
import io.dsogym.remote.WorkerSideCollector;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Future;


/**
 * Training end to end (docs/math.md §3f, §4) on any {@link ChainSource}: each iteration collects a
 * batch of chain transitions under θ_k, evaluates V̂ fitted on the previous batch, computes Algorithm 1's backward weights
 * with that baseline (§3d), builds the surrogate S̃ of §4b from them (its gradient at θ_k is
 * Algorithm 1's estimate, Lemma 2), lets the chosen {@link PolicyImprovement} move θ (one Adam
 * step, PCO epochs, a natural-gradient step or Chain Iteration's Newton steps), then refits V̂
 * on this batch and updates the observation statistics. Optional entropy and KL chain costs
 * (§2e, §2f) join the env's cost. It evaluates, logs metrics, and checkpoints (see {@link
 * #CHECKPOINT_INTERVAL_NANOS}). The cost setting (discounted, average, finite horizon: §1a-§1c)
 * only changes how Algorithm 1 weighs the batch. For the closed loop of a policy and env lanes
 * ({@link PolicyLoop}) it also evaluates the policy on separate lanes, replaces lost workers,
 * and reports the exact J where the env has an exact solver ({@link ExactObjectives}).
 */
public final class Trainer {
  private final TrainConfig config;
  private final LaneSource lanes;
  private final Path outDir;
  private final PrintStream console;
  /** Where the batches come from; the policy loop when it is one, else null. */
  private final ChainSource source;
  private final PolicyLoop loop;
  private final Policy policy;
  /** θ's system part (--system-params), or null for a policy alone. */
  private final SystemParameters system;
  private final ValueFunction value;
  private final Adam optimizer;
  private final ObservationNormalizer normalizer;
  private final ExactObjective exact;
  /** A chain source's evaluation by returns, or null. */
  private final Evaluation evaluation;
  /** A critic with a learning rule of its own, in place of V̂'s fit; null for V̂. */
  private Critic critic;
  private Double exactInitial;
  /** The episode length V̂_t's time feature is divided by (finite horizon). */
  private final int horizon;
  private final Checkpoint.State state;
  private final Double threshold;
  private final Algorithm1.Options options;
  private final PolicyImprovement improvement;
  /** The fixed policy of --kl-reference and its own observation statistics, or null. */
  private final Checkpoint.State klReference;
  private final ObservationNormalizer klReferenceNormalizer;
  /** The env's Box action space, the bounds of --bound-coef; null for other spaces. */
  private final Space.Box actionBox;

  /**
   * Checkpoints are written after an evaluation, at the end, and otherwise at most every 10 s:
   * a 64x64 MLP's state is ~0.5 MB of JSON, too much to write for every small batch.
   */
  private static final long CHECKPOINT_INTERVAL_NANOS = 10_000_000_000L;

  private long lastCheckpointNanos = System.nanoTime();
  /** --on-non-finite drop gives up after this many batches dropped in a row. */
  public static final int MAX_DROPPED_IN_A_ROW = 10;
  private int droppedInARow;
  /** Why the run was asked to stop early ({@link #requestStop}), or null. */
  private volatile String stopRequested;
  private double[] laneReturn;
  /** Batches of this session learnt from off-chain (ratio-corrected). */
  private long offChainBatches;
  /** Each transition's episode return where the episode ended there (recordEpisodes). */
  private double[] endedReturn = new double[0];
  /** The spec of the training lanes, or null for a chain source. */
  private final EnvSpec loopSpec;

  /**
   * At most this many evaluations run behind training (docs/training.md#evaluation); the
   * learner waits for the oldest beyond it.
   */
  public static final int MAX_EVALUATIONS_IN_FLIGHT = 2;
  private static final int EVAL_MEAN = MetricsLog.COLUMNS.indexOf("eval_mean_return");
  private static final int EVAL_STD = MetricsLog.COLUMNS.indexOf("eval_std_return");
  private boolean evalAsync = true;
  /** The evaluation's own policy (policies keep work arrays), or null without env lanes. */
  private final Policy evalPolicy;
  private BackgroundEvaluator evaluator;
  private MetricsLog metrics;

  /**
   * An iteration's metrics row, written once its evaluation (if any) has finished and every
   * earlier row is written, so rows stay in order and hold what a synchronous run writes.
   *
   * @param at the state at that iteration (for the checkpoint and best/), or null
   * @param scheduledEvalAt the evaluation's place in the schedule (state.nextEvalAt before it)
   */
  private record PendingRow(double[] values, Future<double[]> evaluation, Checkpoint.State at,
      long scheduledEvalAt) {}

  private final ArrayDeque<PendingRow> pendingRows = new ArrayDeque<>();
  private static final int VALUE_LOSS = MetricsLog.COLUMNS.indexOf("value_loss");
  /**
   * V̂'s refit overlaps the next collection; off (each fit waited for at once) only to check
   * that the overlap changes nothing.
   */
  private boolean valueFitOverlapped = true;
  private BackgroundValueFit valueFit;
  /** The last iteration's row and state, waiting for its V̂ fit's loss and V̂'s state. */
  private PendingRow rowAwaitingValueFit;

  /**
   * Trains a policy on env lanes: the closed loop of {@code trainEnv} and the env's policy.
   *
   * @param resumed the checkpoint to continue from, or null for a fresh run
   */
  public Trainer(TrainConfig config, LaneSource lanes, VectorEnv trainEnv, Path outDir,
      Checkpoint.State resumed, PrintStream console) {
    this(config, lanes, List.of(trainEnv), outDir, resumed, console);
  }

  /**
   * Trains a policy on the lanes of several workers ({@code config.numWorkers()} of them),
   * each collecting its chunk of every batch on a thread of its own ({@link
   * ParallelCollector}); one worker is the constructor above.
   */
  public Trainer(TrainConfig config, LaneSource lanes, List<? extends VectorEnv> trainEnvs,
      Path outDir, Checkpoint.State resumed, PrintStream console) {
    this(config, lanes, trainEnvs, null, null, null, null, outDir, resumed, console);
  }

  /**
   * Trains θ on any chain source (a known chain, for example): no evaluation lanes; the exact
   * objective, when given, is reported as the evaluation.
   *
   * @param initialTheta θ_0 of a fresh run
   * @param exact J(θ) and J* of the source's problem, or null
   */
  public Trainer(TrainConfig config, ChainSource source, double[] initialTheta,
      ExactObjective exact, Path outDir, PrintStream console) {
    this(config, null, List.of(), source, initialTheta, exact, null, outDir, null, console);
  }

  /**
   * Trains θ on a chain source whose cost is not what θ is judged by (behavioural cloning: the
   * chain's cost is the imitation loss, the judge is the env's return): {@code evaluation} is
   * the run's evaluation, at the same schedule as a policy loop's.
   */
  public Trainer(TrainConfig config, ChainSource source, double[] initialTheta,
      Evaluation evaluation, Path outDir, PrintStream console) {
    this(config, null, List.of(), source, initialTheta, null, evaluation, outDir, null,
        console);
  }

  private Trainer(TrainConfig config, LaneSource lanes, List<? extends VectorEnv> trainEnvs,
      ChainSource chain, double[] initialTheta, ExactObjective givenExact,
      Evaluation evaluation, Path outDir, Checkpoint.State resumed, PrintStream console) {
    if (!trainEnvs.isEmpty() && trainEnvs.size() != config.numWorkers()) {
      throw new IllegalArgumentException("--num-workers: expected the lanes of "
          + config.numWorkers() + " workers, got " + trainEnvs.size());
    }
    VectorEnv trainEnv = trainEnvs.isEmpty() ? null : trainEnvs.get(0);
    this.loopSpec = trainEnv == null ? null : trainEnv.spec();
    this.config = config;
    this.evaluation = evaluation;
    this.lanes = lanes;
    this.outDir = outDir;
    this.console = console;
    PolicySpec.Activation act = PolicySpec.Activation.valueOf(
        config.activation().toUpperCase(Locale.ROOT));
    if (trainEnv != null) {
      this.policy = Policies.forEnv(trainEnv.spec(), config.policyHidden(), act,
          config.initLogStd());
      this.evalPolicy = Policies.forEnv(trainEnv.spec(), config.policyHidden(), act,
          config.initLogStd());
      this.actionBox = trainEnv.spec().actionSpace() instanceof Space.Box box ? box : null;
      this.system = config.systemParams().isEmpty() ? null
          : new SystemParameters(systemLanes(trainEnvs).get(0), config.systemParams(),
              policy.numParams());
      this.normalizer = new ObservationNormalizer(policy.obsDim(),
          config.normalizeObservations(), 10.0);
      this.threshold = config.targetReturn() != null ? config.targetReturn()
          : trainEnv.spec().rewardThreshold();
    } else {
      this.policy = null;
      this.evalPolicy = null;
      this.actionBox = null;
      this.system = null;
      this.normalizer = null;
      this.threshold = config.targetReturn();
    }
    int features = trainEnv != null ? policy.obsDim() : chain.featureDim();
    this.horizon = trainEnv != null && trainEnv.spec().maxEpisodeSteps() > 0
        ? trainEnv.spec().maxEpisodeSteps() : config.stepsPerLane();
    this.value = new ValueFunction(features + (finiteHorizon() ? 1 : 0), config.valueHidden(),
        act, config.valueLearningRate(), config.seed() + 1);
    this.optimizer = new Adam(config.learningRate());
    this.options = new Algorithm1.Options(setting(config.setting()), config.gamma(),
        config.lambda(), config.discountStates());
    if (resumed == null) {
      state = new Checkpoint.State();
      state.config = config;
      state.theta = trainEnv == null ? initialTheta.clone()
          : system == null ? policy.initialTheta(config.seed())
          : system.initialTheta(policy.initialTheta(config.seed()));
      state.nextEvalAt = config.evalEvery();
    } else {
      state = resumed;
      state.config = config;
      optimizer.restore(state.adamM, state.adamV, state.adamSteps);
      value.restore(state.valueTheta, state.valueAdamM, state.valueAdamV, state.valueAdamSteps);
      normalizer.set(state.obsMean, state.obsVar, state.obsCount);
    }
    this.klReference = config.surrogate().klReference() == null ? null
        : readReference(Path.of(config.surrogate().klReference()), state.theta.length);
    this.klReferenceNormalizer = klReference == null ? null
        : new ObservationNormalizer(policy.obsDim(),
            klReference.config.normalizeObservations(), 10.0);
    if (klReference != null) {
      klReferenceNormalizer.set(klReference.obsMean, klReference.obsVar, klReference.obsCount);
    }
    this.improvement = newImprovement();
    if (state.improverState != null) {
      improvement.restoreState(state.improverState);
    }
    if (trainEnv != null) {
      Collector collector = trainEnvs.size() == 1 ? newCollector(trainEnv)
          : newParallelCollector(trainEnvs);
      this.loop = system == null ? new PolicyLoop(collector, policy, normalizer)
          : new PolicyLoop(collector, policy, normalizer, system, systemLanes(trainEnvs));
      this.source = loop;
      this.exact = ExactObjectives.forRun(config, trainEnv.spec(), policy, normalizer, system);
    } else {
      this.loop = null;
      this.source = chain;
      this.exact = givenExact;
    }
    if (!(config.surrogate().entropyCoef() == 0 && config.surrogate().klCoef() == 0)
        && loop == null) {
      throw new IllegalArgumentException("--entropy-coef/--kl-coef: expected 0 for a chain "
          + "without a policy (they are costs on π(·|x)), got " + config.surrogate().entropyCoef()
          + " and " + config.surrogate().klCoef());
    }
    if (system != null && config.batchQuorum() < 1) {
      throw new IllegalArgumentException("--batch-quorum: expected 1 with --system-params (a "
          + "late chunk's dynamics would be those of an older φ, which the ratios do not "
          + "correct), got " + config.batchQuorum());
    }
    if (config.surrogate().boundCoef() > 0 && actionBox == null) {
      throw new IllegalArgumentException("--bound-coef: expected 0 for an env without a Box "
          + "action space (it is a cost on a Gaussian policy's mean), got "
          + config.surrogate().boundCoef());
    }
  }

  /**
   * The lanes of a run with --system-params: Java-native lanes in this process whose env is a
   * {@link ParametricSystem} (the density of its dynamics must be known here), every worker's
   * in lane order.
   */
  private static List<ParametricSystem> systemLanes(List<? extends VectorEnv> envs) {
    List<ParametricSystem> out = new java.util.ArrayList<>();
    for (VectorEnv env : envs) {
      if (!(env instanceof SyncVectorEnv sync)) {
        throw new IllegalArgumentException("--system-params: expected Java-native lanes "
            + "(--source java), got " + env.getClass().getSimpleName());
      }
      for (Env lane : sync.lanes()) {
        if (!(lane instanceof ParametricSystem ps)) {
          throw new IllegalArgumentException("--system-params: expected an env that is a "
              + "parametric system (TabularChain-v0, LQR-v0, Pendulum-v1, CartPole-v1), got "
              + env.spec().id());
        }
        out.add(ps);
      }
    }
    return out;
  }

  private static Algorithm1.Setting setting(String name) {
    return switch (name) {
      case "average" -> Algorithm1.Setting.AVERAGE_COST;
      case "finite-horizon" -> Algorithm1.Setting.FINITE_HORIZON;
      default -> Algorithm1.Setting.DISCOUNTED;
    };
  }

  private boolean finiteHorizon() {
    return config.setting().equals("finite-horizon");
  }

  private PolicyImprovement newImprovement() {
    TrainConfig.SurrogateConfig s = config.surrogate();
    return switch (config.algo()) {
      case "gradient" -> new GradientStep(optimizer, config.maxGradNorm());
      case "pco" -> new ProximalChainOptimization(optimizer,
          new ProximalChainOptimization.Options(s.epochs(), s.minibatches(), s.clip(),
              s.annealClip(), s.targetKl(), config.maxGradNorm()), config.seed() * 7919 + 17);
      case "natural" -> new NaturalGradient(
          new NaturalGradient.Options(s.maxKl(), s.cgIterations(), s.cgDamping(), 10,
              config.annealLearningRate()));
      case "chain-iteration" -> new ChainIteration(new ChainIteration.Options(s.newtonSteps(),
          s.cgIterations(), Math.max(s.cgDamping(), 1e-6), 1e-3, s.maxKl()));
      default -> throw new IllegalArgumentException("--algo: expected one of "
          + TrainConfig.ALGORITHMS + ", got " + config.algo());
    };
  }

  /** The checkpoint of the --kl-reference run; its policy must have this run's shape. */
  private static Checkpoint.State readReference(Path dir, int numParams) {
    Checkpoint.State ref;
    try {
      ref = Checkpoint.read(dir);
    } catch (IOException e) {
      throw new IllegalArgumentException("--kl-reference: " + e.getMessage(), e);
    }
    if (ref.theta.length != numParams) {
      throw new IllegalArgumentException("--kl-reference " + dir + ": expected a policy with "
          + numParams + " parameters (this run's), got " + ref.theta.length + " ("
          + ref.config.envId() + ", hidden " + ref.config.policyHidden() + ")");
    }
    return ref;
  }

  private String algorithmName() {
    return switch (config.algo()) {
      case "gradient" -> "Algorithm 1 + Adam";
      case "pco" -> "proximal chain optimization";
      case "natural" -> "natural gradient";
      default -> "Chain Iteration";
    };
  }

  public Policy policy() {
    return policy;
  }

  /**
   * Uses {@code c} in place of the fitted V̂ (Z-learning's −ln ẑ on an LMDP): Algorithm 1 reads
   * its values, and it learns from every batch. Call before {@link #run}.
   */
  public Trainer withCritic(Critic c) {
    this.critic = c;
    return this;
  }

  /**
   * Whether evaluations run on a thread of their own while training goes on (the default) or
   * hold up training until they finish; both write the same figures. Call before {@link #run}.
   */
  public Trainer evaluateAsync(boolean on) {
    this.evalAsync = on;
    return this;
  }

  /** A copy of the current θ (after {@link #run}, the trained one). */
  public double[] theta() {
    return state.theta.clone();
  }

  /**
   * Asks a running {@link #run} to stop after the iteration in progress (callable from any
   * thread, e.g. a shutdown hook): it writes the checkpoint and returns without writing
   * summary.json, so that {@code --resume} continues the run.
   *
   * @param reason for the console, e.g. "SIGINT or SIGTERM"
   */
  public void requestStop(String reason) {
    stopRequested = reason;
    if (lanes != null) {
      lanes.stopWaiting(reason);  // a wait for a replacement or evaluation worker ends now
    }
  }

  /** Whether the last {@link #run} ended on {@link #requestStop} before its budget. */
  public boolean stopped() {
    return stopRequested != null && state.envSteps < config.maxSteps();
  }

  /**
   * Runs until {@code maxSteps} env steps (or {@link #requestStop}); returns the summary,
   * written to summary.json when the budget is met.
   */
  public Map<String, Object> run() throws Exception {
    Files.createDirectories(outDir);
    Buffers buf = new Buffers();
    long startNanos = System.nanoTime();
    double wallBefore = state.wallSeconds;
    long stepsAtStart = state.envSteps;
    if (exact != null) {
      exactInitial = exact.objective(state.iteration == 0 ? state.theta
          : (state.exactInitialTheta != null ? state.exactInitialTheta : state.theta));
      if (state.exactInitialTheta == null) {
        state.exactInitialTheta = state.theta.clone();
      }
    }
    valueFit = new BackgroundValueFit(value);
    evaluator = loop == null ? null : new BackgroundEvaluator(lanes,
        Math.min(config.evalEpisodes(), 32), this::evaluationSteps, policy.obsDim(),
        config.evalEpisodes(), this::prepareEvalLanes, () -> stopRequested != null, console,
        evalAsync);
    try (MetricsLog log = new MetricsLog(outDir.resolve("metrics.csv"), state.iteration)) {
      metrics = log;
      console.printf(Locale.ROOT, "[train] %s from %s, %s, %s setting, %s, "
              + "%d lanes x %d steps per batch, %d parameters%s%n", config.envId(),
          config.source(), sourceDescription(), config.setting(), algorithmName(),
          config.numEnvs(), config.stepsPerLane(), state.theta.length,
          state.iteration > 0 ? ", resumed at " + state.envSteps + " steps" : "");
      if (exact != null) {
        console.printf(Locale.ROOT, "[train] exact %s: J(θ0) = %.6g, J* = %.6g%n",
            exact.describe(), exactInitial, exact.optimum());
      }
      while (state.envSteps < config.maxSteps() && stopRequested == null) {
        long iterStart = System.nanoTime();
        ChainBatch batch;
        try {
          batch = source.collect(state.theta, config.stepsPerLane());
        } catch (EnvUnavailableException e) {
          if (stopRequested != null) {
            break;  // the workers may be going down with this process (Ctrl-C)
          }
          replaceLostWorker(e);
          continue;
        } catch (NonFiniteValueException e) {
          refuse(e, "batch");  // θ and every statistic are as before the batch
          continue;
        }
        droppedInARow = 0;
        TrajectoryBatch steps = batch.steps();
        int n = batch.size();  // lanes may change when a lost worker is replaced
        buf.ensure(n, value.inputs());
        double[] v = buf.value;
        double[] vNext = buf.nextValue;
        double[] weights = buf.weights;
        double[] targets = buf.targets;
        state.iteration++;
        state.envSteps += n;
        double trainReturn = recordEpisodes(steps);

        // V̂ is fit in units of valueScale (the RMS of past targets), so one learning rate
        // suits envs whose returns are 10 or 1000; predictions are scaled back here.
        valueInputs(batch, batch.features(), buf.valueIn);
        valueInputs(batch, batch.nextFeatures(), buf.valueNextIn);
        finishValueFit();  // V̂ fitted on the previous batch, while this one was collected
        if (critic == null) {
          value.predictBatch(buf.valueIn, n, v);
          value.predictBatch(buf.valueNextIn, n, vNext);
          scale(v, state.valueScale);
          scale(vNext, state.valueScale);
        } else {
          critic.values(batch, v, vNext);
          critic.learn(batch, state.theta);  // θ_k, before the update; read at the next batch
        }
        StateCost regularizer = regularizer(batch);
        double[] regularizerCost = null;
        if (regularizer != StateCost.NONE) {
          // The chain cost is L = ℓ + L_reg (§2e/§2f): V̂ and the weights see the whole cost.
          // The surrogate reuses these values as its L(x, θ_k).
          regularizerCost = buf.regularizerCost;
          for (int i = 0; i < n; i++) {
            regularizerCost[i] = regularizer.cost(state.theta, i);
            steps.cost[i] += regularizerCost[i];
          }
        }
        double averageCost = 0;
        if (options.setting() == Algorithm1.Setting.AVERAGE_COST) {
          averageCost = continueThroughResets(steps, v, vNext);
        }
        Algorithm1.weights(steps, v, vNext, options, averageCost, weights, targets);
        for (int i = 0; i < n; i++) {
          buf.stateWeight[i] = Algorithm1.stateWeight(steps, i, options);
        }
        if (config.normalizeAdvantages()) {
          AdvantageNormalization.apply(weights, buf.stateWeight, n);
        }
        for (int i = 0; i < n; i++) {
          buf.advantage[i] = weights[i] / n;
          buf.stateWeight[i] /= n;
        }
        StateCost cost = batch.cost().plus(regularizer);
        double[] costAtStart = batch.cost() == StateCost.NONE ? regularizerCost : null;
        Surrogate surrogate = new Surrogate(batch.transitions(), cost, state.theta,
            buf.advantage, buf.stateWeight, costAtStart);
        if (steps.offChain) {
          // collected under an earlier θ (collect-ahead, or a straggler's late chunk)
          surrogate.withBehaviour(steps.logProb);
          offChainBatches++;
        }
        double progress = Math.min(1.0, (double) state.envSteps / config.maxSteps());
        double lr = config.learningRate()
            * (config.annealLearningRate() ? PolicyImprovement.annealing(progress) : 1.0);
        optimizer.setLearningRate(lr);
        PolicyImprovement.Report report = improvement.improve(surrogate, state.theta, progress);
        state.improverState = improvement.state();
        // §3f step 5: refit V̂ on this batch, for use at the next iteration: it runs while
        // the next batch is collected, and its loss completes this iteration's row.
        double valueLoss = Double.NaN;
        if (critic == null) {
          updateValueScale(targets);
          scale(targets, 1.0 / state.valueScale);
          valueFit.start(buf.valueIn, targets, n, config.valueEpochs(), config.valueMinibatch(),
              config.seed() * 31 + state.iteration);
          if (!valueFitOverlapped) {
            valueLoss = valueFit.finish();
          }
        }
        source.afterUpdate(batch);

        // The evaluation of θ_k runs on a snapshot while training goes on; its row waits for it.
        Future<double[]> evaluating = null;
        Checkpoint.State evaluated = null;
        long scheduledEvalAt = state.nextEvalAt;
        double exactJ = Double.NaN;
        if (state.envSteps >= state.nextEvalAt || state.envSteps >= config.maxSteps()) {
          if (exact != null) {
            exactJ = exact.objective(state.theta);
            state.lastExactObjective = exactJ;
          }
          while (state.nextEvalAt <= state.envSteps) {
            state.nextEvalAt += config.evalEvery();
          }
          evaluated = snapshot();
          evaluating = startEvaluation(evaluated, exactJ);
        }
        state.wallSeconds = wallBefore + (System.nanoTime() - startNanos) / 1e9;
        double stepsPerSecond = n / ((System.nanoTime() - iterStart) / 1e9);
        PendingRow row = new PendingRow(new double[] {state.iteration, state.envSteps,
            state.episodes, state.wallSeconds, stepsPerSecond, trainReturn, Double.NaN,
            Double.NaN, valueLoss, report.gradNorm(), lr, policyStd(), report.kl(),
            report.surrogateChange(), exactJ}, evaluating, evaluated, scheduledEvalAt);
        if (valueFit.pending()) {
          rowAwaitingValueFit = row;
        } else {
          pendingRows.add(row);
        }
        boolean checkpointDue = state.envSteps >= config.maxSteps() || stopRequested != null
            || System.nanoTime() - lastCheckpointNanos > CHECKPOINT_INTERVAL_NANOS;
        if (checkpointDue) {
          finishValueFit();
        }
        writeRows(evalAsync ? MAX_EVALUATIONS_IN_FLIGHT : 0);
        // With rows pending, the checkpoint waits: their evaluations write it (writeRow).
        if (checkpointDue && pendingRows.isEmpty()) {
          saveCheckpoint();
          lastCheckpointNanos = System.nanoTime();
        }
        progress(trainReturn, stepsPerSecond, stepsAtStart, startNanos, report.detail());
      }
      finishValueFit();
      writeRows(0);  // the evaluations still running: the final one, or those a stop leaves
      state.wallSeconds = wallBefore + (System.nanoTime() - startNanos) / 1e9;  // with the wait
      saveCheckpoint();  // the whole state, every row written
      if (stopped()) {
        console.printf(Locale.ROOT, "[train] stopped (%s) at %,d of %,d steps; checkpoint %s; "
            + "continue with: dsogym train --resume %s%n", stopRequested, state.envSteps,
            config.maxSteps(), outDir.resolve(Checkpoint.FILE), outDir);
      }
    } finally {
      try {
        valueFit.close();
        if (evaluator != null) {
          evaluator.close();
        }
      } finally {
        source.close();
      }
    }
    Map<String, Object> summary = summary();
    if (stopped()) {
      return summary;  // an unfinished run: no summary.json or curve, --resume finishes it
    }
    Summaries.write(outDir, summary);
    LearningCurvePlot.write(outDir.resolve("metrics.csv"), outDir.resolve("learning_curve.png"),
        config.envId() + " - " + config.algo() + " (seed " + config.seed() + ")", threshold);
    return summary;
  }

  /**
   * V̂'s inputs: the source's features, and in the finite-horizon setting the episode step as
   * a fraction of the horizon (V̂_t is time-indexed, docs/math.md §3c).
   */
  private void valueInputs(ChainBatch batch, double[] features, double[] out) {
    int d = batch.featureDim();
    int n = batch.size();
    if (!finiteHorizon()) {
      System.arraycopy(features, 0, out, 0, n * d);
      return;
    }
    double scale = Math.max(1, horizon);
    for (int i = 0; i < n; i++) {
      System.arraycopy(features, i * d, out, i * (d + 1), d);
      out[i * (d + 1) + d] = batch.steps().episodeStep[i] / scale;
    }
  }

  /**
   * The average-cost setting (docs/math.md §1b) on an episodic source: the chain continues
   * through each reset, so a transition into a terminal state is followed by the lane's next
   * episode start instead of ending with V = 0. Such steps are unmarked as terminated, and the
   * value after them is V̂ at an episode start (the mean of V̂ over this batch's episode starts:
   * the reset draws x₀ ~ P0 whatever θ is). Returns Ĵ, the batch's mean cost per step, which
   * Algorithm 1 subtracts from every cost (§3d).
   */
  private double continueThroughResets(TrajectoryBatch steps, double[] v, double[] vNext) {
    int n = steps.size();
    double startValue = 0;
    int starts = 0;
    double costSum = 0;
    for (int i = 0; i < n; i++) {
      costSum += steps.cost[i];
      if (steps.episodeStep[i] == 0) {
        startValue += v[i];
        starts++;
      }
    }
    startValue = starts == 0 ? 0 : startValue / starts;
    for (int i = 0; i < n; i++) {
      if (steps.terminated[i]) {
        steps.terminated[i] = false;
        vNext[i] = startValue;
      }
    }
    return costSum / n;
  }

  /** Per-transition work arrays, reallocated only when the batch size changes. */
  private static final class Buffers {
    double[] valueIn = new double[0];
    double[] valueNextIn = new double[0];
    double[] value = new double[0];
    double[] nextValue = new double[0];
    double[] weights = new double[0];
    double[] targets = new double[0];
    double[] advantage = new double[0];
    double[] stateWeight = new double[0];
    double[] regularizerCost = new double[0];

    void ensure(int n, int inputs) {
      if (value.length != n || valueIn.length != n * inputs) {
        regularizerCost = new double[n];
        advantage = new double[n];
        stateWeight = new double[n];
        valueIn = new double[n * inputs];
        valueNextIn = new double[n * inputs];
        value = new double[n];
        nextValue = new double[n];
        weights = new double[n];
        targets = new double[n];
      }
    }
  }

  private String sourceDescription() {
    if (loop == null) {
      return "a chain source";
    }
    String workers = !(loop.collector() instanceof ParallelCollector p) ? ""
        : p.numWorkers() + " workers (" + lanesOf(p) + " lanes), batch quorum "
            + config.batchQuorum() + ", ";
    return workers + inferenceSide() + "-side inference" + (config.collectAhead()
        ? " collecting ahead (one update stale, ratio-corrected)" : "");
  }

  private static String lanesOf(ParallelCollector p) {
    return p.collectors().stream().map(c -> Integer.toString(c.numLanes()))
        .collect(java.util.stream.Collectors.joining("+"));
  }

  /** "worker" or "server": where the (first) worker's actions are sampled. */
  private String inferenceSide() {
    Collector c = loop.collector() instanceof ParallelCollector p ? p.collectors().get(0)
        : loop.collector();
    return c instanceof WorkerSideCollector ? "worker" : "server";
  }

  /** Sampler seeds of worker w are this far apart from worker 0's (today's) seed. */
  private static final long WORKER_SEED_STRIDE = 1_000_000_007L;

  /**
   * One collector per worker, each with a policy instance of its own (its workspaces are
   * used on the worker's thread). Worker w's lanes are reset with the seeds of the lanes they
   * stand for in one worker's numbering (w's first lane, upwards), so worker 0's seeds are a
   * single worker's; its sampler seed is worker 0's + w × {@link #WORKER_SEED_STRIDE}.
   */
  private ParallelCollector newParallelCollector(List<? extends VectorEnv> envs) {
    List<Collector> collectors = new java.util.ArrayList<>();
    int firstLane = 0;
    for (int w = 0; w < envs.size(); w++) {
      collectors.add(newCollector(envs.get(w), workerPolicy(), w, firstLane));
      firstLane += envs.get(w).numEnvs();
    }
    return new ParallelCollector(collectors, config.batchQuorum(), this::replaceWorker);
  }

  private Policy workerPolicy() {
    return Policies.forEnv(loopSpec, config.policyHidden(), PolicySpec.Activation.valueOf(
        config.activation().toUpperCase(Locale.ROOT)), config.initLogStd());
  }

  /**
   * A lost worker of several: its open chunk is gone, the others' chunks of the batch were
   * kept; new lanes replace it (or, when the run is stopping, the loss ends the collect).
   */
  private Collector replaceWorker(int worker, EnvUnavailableException cause) throws Exception {
    if (stopRequested != null) {
      throw cause;  // the workers may be going down with this process (Ctrl-C)
    }
    state.workersLost++;
    console.printf("[train] lost worker %d of %d (%s); its open chunk is dropped, the other "
        + "workers' chunks are kept: %s%n", worker + 1, config.numWorkers(), cause.getMessage(),
        lanes.replacementNote());
    Collector next = newCollector(lanes.open(config.lanesPerWorker(), "train"), workerPolicy(),
        worker, worker * config.lanesPerWorker());
    console.printf("[train] new lanes connected for worker %d; continuing%n", worker + 1);
    return next;
  }

  private Collector newCollector(VectorEnv env) {
    laneReturn = null;  // new lanes: no episode continues
    return newCollector(env, policy, 0, 0);
  }

  private Collector newCollector(VectorEnv env, Policy policy, int worker, int firstLane) {
    long samplerSeed = config.seed() * 1_000_003L + state.iteration
        + WORKER_SEED_STRIDE * worker;
    long resetSeed = config.seed() + 10_007L * state.iteration + firstLane;
    if (useWorkerInference(env)) {
      // Worker-side inference: the Python worker samples from theta with numpy, K steps per
      // round trip. By default it collects under the current θ_k and waits for θ_{k+1}
      // before the next batch (on-chain: no importance ratios needed); with --collect-ahead
      // it collects the next batch under θ_k meanwhile, and the surrogate's ratios to that
      // behaviour policy correct for it (docs/math.md §4b).
      WorkerSideCollector c = new WorkerSideCollector((RemoteVectorEnv) env, policy,
          samplerSeed);
      c.setCollectAhead(config.collectAhead());
      c.reset(resetSeed);
      return c;
    }
    if (config.collectAhead()) {
      throw new IllegalArgumentException("--collect-ahead: expected worker-side inference "
          + "(one Python worker with the capability " + RemoteVectorEnv.WORKER_INFERENCE
          + " and --inference auto or worker), got server-side inference");
    }
    ServerSideCollector c = new ServerSideCollector(env, policy,
        new SplittableRandom(samplerSeed));
    c.reset(resetSeed);
    return c;
  }

  /**
   * The evaluation lanes' steps: the worker computes the deterministic action, K steps per
   * round trip, where training would use worker-side inference on such lanes and the worker
   * can (an older worker without {@value RemoteVectorEnv#DETERMINISTIC_COLLECT} steps one
   * round trip per step, as do Java-native lanes).
   */
  private Evaluator.Steps evaluationSteps(VectorEnv env) {
    return Evaluator.stepsFor(env, evalPolicy, useWorkerInference(env));
  }

  /**
   * {@code worker}: required (an error if the lanes cannot do it); {@code auto}: wherever the
   * lanes are a Python worker that declared the capability; {@code server}: never.
   */
  private boolean useWorkerInference(VectorEnv env) {
    boolean capable = env instanceof RemoteVectorEnv remote && remote.supportsWorkerInference()
        && env.spec().observationSpace() instanceof Space.Box;  // the worker samples on Box obs
    if (config.inference().equals("worker") && !capable) {
      throw new IllegalArgumentException("--inference worker: expected lanes served by a "
          + "Python worker with the capability " + RemoteVectorEnv.WORKER_INFERENCE + ", got "
          + (env instanceof RemoteVectorEnv ? "a worker without it" : "Java-native lanes"));
    }
    return capable && !config.inference().equals("server");
  }

  /**
   * A batch (or an evaluation) held a non-finite value: with --on-non-finite stop, writes the
   * checkpoint of the state so far (which the refused values never touched) and stops with the
   * refusal's message; with drop, says so and goes on, stopping after
   * {@value #MAX_DROPPED_IN_A_ROW} batches dropped in a row (an env that only emits them).
   */
  private void refuse(NonFiniteValueException e, String what) throws Exception {
    refuse(e, what, null);
  }

  /** @param at the state to checkpoint, or null for the run's own (after the pending rows) */
  private void refuse(NonFiniteValueException e, String what, Checkpoint.State at)
      throws Exception {
    boolean drop = config.onNonFinite().equals("drop");
    if (drop && what.equals("batch")) {
      droppedInARow++;
    }
    if (drop && droppedInARow < MAX_DROPPED_IN_A_ROW) {
      console.printf("[train] dropped the %s: %s%n", what, e.getMessage());
      return;
    }
    if (at == null) {
      try {
        finishValueFit();
        writeRows(0);  // rows first: the checkpoint is of a state whose rows are all written
      } catch (Exception pending) {
        pending.addSuppressed(e);  // a refused evaluation has checkpointed its own state
        throw pending;
      }
      at = snapshot();
    }
    Checkpoint.write(outDir, at);
    throw new IllegalStateException("refused the " + what + ": " + e.getMessage()
        + (drop ? " (" + droppedInARow + " batches dropped in a row)" : "")
        + "; training stopped at " + at.envSteps + " steps with a checkpoint in " + outDir
        + " (--resume continues it; --on-non-finite drop skips such batches)", e);
  }

  /** A worker died mid-batch: its partial batch is dropped (θ is unchanged) and lanes reopened. */
  private void replaceLostWorker(EnvUnavailableException e) throws Exception {
    if (loop == null || loop.collector() instanceof ParallelCollector) {
      throw e;  // only env lanes have a replacement; several workers' is replaceWorker
    }
    state.workersLost++;
    console.printf("[train] lost the env worker (%s); the batch in progress is dropped and "
        + "training goes on: %s%n", e.getMessage(), lanes.replacementNote());
    VectorEnv replacement;
    try {
      replacement = lanes.open(config.numEnvs(), "train");
    } catch (EnvUnavailableException waitEnded) {
      if (stopRequested == null) {
        throw waitEnded;
      }
      return;  // stopping: the run ends with the checkpoint of the state so far
    }
    loop.replaceCollector(newCollector(replacement));
    console.println("[train] new lanes connected; continuing");
  }

  /**
   * Starts the evaluation of the state {@code at} (θ_k and its observation statistics, copies
   * no one changes): on the evaluation lanes off the critical path, or at once for a chain
   * source (its {@link Evaluation}, else the negated exact J, else nothing).
   */
  private Future<double[]> startEvaluation(Checkpoint.State at, double exactJ) {
    long seed = config.seed() + 1_000_000L + at.iteration * 1_000L;
    if (loop != null) {
      ObservationNormalizer stats = new ObservationNormalizer(policy.obsDim(),
          config.normalizeObservations(), 10.0);
      stats.set(at.obsMean, at.obsVar, at.obsCount);
      return evaluator.submit(at.theta, stats, seed);
    }
    return BackgroundEvaluator.run(() -> evaluation != null ? evaluation.returns(at.theta, seed)
        : exact != null ? new double[] {-exactJ} : null, null);  // a return: the negated cost
  }

  /** Evaluates the system at φ(θ) (--system-params) on the evaluation lanes. */
  private void prepareEvalLanes(double[] theta, VectorEnv evalLanes) {
    if (system != null) {
      system.apply(theta, systemLanes(List.of(evalLanes)));
    }
  }

  /**
   * Writes the pending rows in order as their evaluations finish, waiting for the oldest while
   * more than {@code maxInFlight} evaluations are pending (0: until every row is written).
   */
  private void writeRows(int maxInFlight) throws Exception {
    while (!pendingRows.isEmpty()) {
      PendingRow head = pendingRows.peek();
      long evaluating = pendingRows.stream().filter(r -> r.evaluation() != null).count();
      if (head.evaluation() != null && !head.evaluation().isDone() && evaluating <= maxInFlight) {
        return;
      }
      pendingRows.poll();
      writeRow(head);
    }
  }

  /**
   * One row: its evaluation's figures go into the row and the run's state as a synchronous
   * evaluation puts them; an evaluated iteration's state is then the checkpoint.
   */
  private void writeRow(PendingRow row) throws Exception {
    double[] values = row.values();
    if (row.evaluation() != null) {
      double evalMean = Double.NaN;
      double evalStd = Double.NaN;
      try {
        double[] returns = BackgroundEvaluator.result(row.evaluation());
        if (returns != null) {
          evalMean = Evaluator.mean(returns);
          evalStd = Evaluator.std(returns);
        }
      } catch (NonFiniteValueException e) {
        refuseEvaluation(e, row);  // dropped: this evaluation reports nothing
      } catch (EnvUnavailableException e) {
        if (stopRequested == null) {
          throw e;
        }  // stopping: the checkpoint matters, not this evaluation
      }
      recordEvaluation(evalMean, evalStd, row.at());
      values[EVAL_MEAN] = evalMean;
      values[EVAL_STD] = evalStd;
    }
    metrics.row(values);
    if (row.evaluation() != null && !Double.isNaN(values[EVAL_MEAN])) {
      Checkpoint.write(outDir, row.at());
      lastCheckpointNanos = System.nanoTime();
    }
  }

  /**
   * Records an evaluation of the state {@code at} in the run's state (evaluations are recorded
   * in order) and copies the run's evaluation record into {@code at}, which becomes the state
   * a synchronous evaluation leaves; a new best is kept in best/.
   */
  private void recordEvaluation(double evalMean, double evalStd, Checkpoint.State at)
      throws IOException {
    state.lastEvalMean = evalMean;
    state.lastEvalStd = evalStd;
    if (state.stepsToThreshold == null && threshold != null && evalMean >= threshold) {
      state.stepsToThreshold = at.envSteps;
    }
    boolean best = evalMean > state.bestEvalMean
        || Double.isNaN(state.bestEvalMean) && !Double.isNaN(evalMean);
    if (best) {
      state.bestEvalMean = evalMean;
      state.bestEvalEnvSteps = at.envSteps;
    }
    copyEvaluationRecord(at);
    if (best) {
      // kept beside the last, as SB3's EvalCallback keeps its best model
      Checkpoint.write(outDir.resolve(Checkpoint.BEST_DIR), at);
    }
  }

  private void copyEvaluationRecord(Checkpoint.State at) {
    at.lastEvalMean = state.lastEvalMean;
    at.lastEvalStd = state.lastEvalStd;
    at.stepsToThreshold = state.stepsToThreshold;
    at.bestEvalMean = state.bestEvalMean;
    at.bestEvalEnvSteps = state.bestEvalEnvSteps;
  }

  /**
   * A refused evaluation: with --on-non-finite drop it reports nothing; with stop, the
   * checkpoint is its iteration's state before the evaluation (rows up to it are written, so a
   * resumed run evaluates there again) and the run stops.
   */
  private void refuseEvaluation(NonFiniteValueException e, PendingRow row) throws Exception {
    Checkpoint.State at = row.at();
    copyEvaluationRecord(at);
    at.nextEvalAt = row.scheduledEvalAt();
    refuse(e, "evaluation", at);
  }

  /**
   * Adds the batch's rewards to each lane's episode, which continues across batches (a lane
   * is {@link TrajectoryBatch#laneId}: several workers' batches may hold some of the lanes,
   * or two chunks of one); returns the mean of the episodes ended.
   */
  private double recordEpisodes(TrajectoryBatch b) {
    int lanesSeen = 0;
    for (int c = 0; c < b.numLanes; c++) {
      lanesSeen = Math.max(lanesSeen, b.laneId[c] + 1);
    }
    if (laneReturn == null) {
      laneReturn = new double[lanesSeen];
    } else if (laneReturn.length < lanesSeen) {
      laneReturn = java.util.Arrays.copyOf(laneReturn, lanesSeen);
    }
    if (endedReturn.length < b.size()) {
      endedReturn = new double[b.size()];
    }
    for (int c = 0; c < b.numLanes; c++) {  // column by column: each chunk in step order
      int lane = b.laneId[c];
      for (int k = 0; k < b.stepsPerLane; k++) {
        int i = TrajectoryBatch.index(k, c, b.numLanes);
        laneReturn[lane] -= b.cost[i];
        if (b.ended(i)) {
          endedReturn[i] = laneReturn[lane];
          laneReturn[lane] = 0;
        }
      }
    }
    double sum = 0;
    int count = 0;
    for (int i = 0; i < b.size(); i++) {  // summed in step-major order, as always
      if (b.ended(i)) {
        sum += endedReturn[i];
        count++;
      }
    }
    state.episodes += count;
    return count == 0 ? Double.NaN : sum / count;
  }

  private double policyStd() {
    if (policy == null || policy.spec().head() != PolicySpec.Head.GAUSSIAN) {
      return Double.NaN;
    }
    int off = policy.spec().netParams();
    double s = 0;
    for (int j = 0; j < policy.spec().outputs(); j++) {
      s += Math.exp(state.theta[off + j]);
    }
    return s / policy.spec().outputs();
  }

  private void saveCheckpoint() throws IOException {
    captureState();
    Checkpoint.write(outDir, state);
  }

  /** A copy of the whole training state as it is now (what a checkpoint now would hold). */
  private Checkpoint.State snapshot() {
    captureState();
    return state.copy();
  }

  /**
   * Brings the optimizer's, V̂'s and the normalizer's state into {@link #state}; while V̂ is
   * being fit, its state is left to {@link #finishValueFit}, which completes the snapshot.
   */
  private void captureState() {
    state.adamM = optimizer.m();
    state.adamV = optimizer.v();
    state.adamSteps = optimizer.steps();
    if (valueFit == null || !valueFit.pending()) {
      captureValue(state);
    }
    if (normalizer != null) {
      state.obsMean = normalizer.mean();
      state.obsVar = normalizer.var();
      state.obsCount = normalizer.count();
    }
  }

  private void captureValue(Checkpoint.State into) {
    into.valueTheta = value.theta();
    into.valueAdamM = value.adamM();
    into.valueAdamV = value.adamV();
    into.valueAdamSteps = value.adamSteps();
  }

  /**
   * Waits for V̂'s fit on the last batch, if one is running, and completes that iteration's
   * row (its loss) and snapshot (V̂'s state), which then joins the rows to write.
   */
  private void finishValueFit() throws InterruptedException {
    if (valueFit == null || !valueFit.pending()) {
      return;
    }
    double loss = valueFit.finish();
    PendingRow row = rowAwaitingValueFit;
    rowAwaitingValueFit = null;
    row.values()[VALUE_LOSS] = loss;
    if (row.at() != null) {
      captureValue(row.at());
    }
    pendingRows.add(row);
  }

  /** Each V̂ fit waited for at once: the test that the overlap changes no figure. */
  void fitValueSequentially() {
    valueFitOverlapped = false;
  }

  /** One console line per iteration; the eta uses the session's average rate. */
  private void progress(double trainReturn, double stepsPerSecond, long stepsAtStart,
      long startNanos, String detail) {
    double elapsed = (System.nanoTime() - startNanos) / 1e9;
    double rate = (state.envSteps - stepsAtStart) / Math.max(1e-9, elapsed);
    double eta = (config.maxSteps() - state.envSteps) / Math.max(1e-9, rate);
    console.printf(Locale.ROOT, "[train] steps %,d/%,d (%.0f%%) | episodes %,d | return %s | "
            + "eval %s | %,.0f steps/s | eta %.0fs%s%n", state.envSteps, config.maxSteps(),
        100.0 * state.envSteps / config.maxSteps(), state.episodes, fmt(trainReturn),
        Double.isNaN(state.lastEvalMean) ? "-" : fmt(state.lastEvalMean) + " ± "
            + fmt(state.lastEvalStd), stepsPerSecond, Math.max(0, eta),
        detail.isEmpty() ? "" : " | " + detail);
  }

  private static String fmt(double x) {
    return Double.isNaN(x) ? "-" : String.format(Locale.ROOT, "%.1f", x);
  }

  private Map<String, Object> summary() {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("env_id", config.envId());
    s.put("algo", config.algo());
    s.put("seed", config.seed());
    s.put("source", config.source());
    s.put("setting", config.setting());
    s.put("inference", loop == null ? null : inferenceSide());
    s.put("collect_ahead", config.collectAhead());
    s.put("workers", config.numWorkers());
    s.put("batch_quorum", config.batchQuorum());
    s.put("chunks_late", loop != null && loop.collector() instanceof ParallelCollector p
        ? p.lateChunks() : 0L);  // this session's
    s.put("workers_lost", state.workersLost);
    s.put("batches_off_chain", offChainBatches);  // this session's
    s.put("env_steps", state.envSteps);
    s.put("iterations", state.iteration);
    s.put("episodes", state.episodes);
    s.put("wall_seconds", state.wallSeconds);
    s.put("eval_episodes", config.evalEpisodes());
    s.put("eval_mean_return", state.lastEvalMean);
    s.put("eval_std_return", state.lastEvalStd);
    s.put("threshold", threshold);
    s.put("steps_to_threshold", state.stepsToThreshold);
    s.put("best_eval_mean_return", Double.isNaN(state.bestEvalMean) ? null : state.bestEvalMean);
    s.put("best_eval_env_steps", state.bestEvalEnvSteps);
    if (system != null) {
      Map<String, Object> params = new LinkedHashMap<>();
      double[] values = system.trainedValues(state.theta);
      for (int k = 0; k < values.length; k++) {
        params.put(system.names().get(k), values[k]);
      }
      s.put("system_params", params);
    }
    if (exact != null) {
      // J is a cost: the fraction of the gap closed is (J0 - J) / (J0 - J*).
      s.put("exact_objective_initial", exactInitial);
      s.put("exact_objective", exact.objective(state.theta));
      s.put("optimal_objective", Double.isNaN(exact.optimum()) ? null : exact.optimum());
      s.put("exact_objective_description", exact.describe());
    }
    return s;
  }

  private static void scale(double[] xs, double k) {
    for (int i = 0; i < xs.length; i++) {
      xs[i] *= k;
    }
  }

  /** Merges this batch's mean squared target into the running RMS that scales V̂. */
  private void updateValueScale(double[] targets) {
    double sq = 0;
    for (double t : targets) {
      sq += t * t;
    }
    double total = state.valueScaleCount + targets.length;
    state.valueSquareMean += (sq / targets.length - state.valueSquareMean) * targets.length
        / total;
    state.valueScaleCount = total;
    double previous = state.valueScale;
    state.valueScale = Math.max(1e-3, Math.sqrt(state.valueSquareMean));
    // V̂ was fit in units of the previous scale: keep its predictions in absolute units.
    value.scaleOutput(previous / state.valueScale);
  }

  /**
   * The regularizing chain costs at the batch's states: the action-bound cost of --bound-coef,
   * -β H (§2e) and λ KL(π_θ ‖ π_ref) (§2f). π_ref is the --kl-reference run's policy, seeing
   * the observations through its own statistics, or else π_θk: the proximal cost, zero at θ_k,
   * which pulls the surrogate's minimizer back toward θ_k.
   */
  private StateCost regularizer(ChainBatch chainBatch) {
    TrainConfig.SurrogateConfig s = config.surrogate();
    double[] zObs = chainBatch.features();  // the policy loop's normalized observations
    StateCost bound = s.boundCoef() == 0 ? StateCost.NONE
        : new ActionBoundCost(policy, zObs, s.boundCoef(), actionBox.low(), actionBox.high());
    return bound.plus(distributionRegularizer(chainBatch, zObs));
  }

  /** -β H (§2e) and λ KL(π_θ ‖ π_ref) (§2f), or NONE. */
  private StateCost distributionRegularizer(ChainBatch chainBatch, double[] zObs) {
    TrainConfig.SurrogateConfig s = config.surrogate();
    if (s.entropyCoef() == 0 && s.klCoef() == 0) {
      return StateCost.NONE;
    }
    TrajectoryBatch batch = chainBatch.steps();
    int n = chainBatch.size();
    if (klReference == null) {
      return new PolicyRegularizer(policy, zObs, n, s.entropyCoef(), s.klCoef(),
          s.klCoef() > 0 ? state.theta.clone() : null);
    }
    int d = policy.obsDim();
    double[] refObs = new double[n * d];
    for (int i = 0; i < n; i++) {
      klReferenceNormalizer.normalize(batch.obs, i * d, refObs, i * d);
    }
    return new PolicyRegularizer(policy, zObs, n, s.entropyCoef(), s.klCoef(),
        klReference.theta, refObs);
  }
}
