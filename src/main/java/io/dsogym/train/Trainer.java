package io.dsogym.train;

import io.dsogym.dso.Algorithm1;
import io.dsogym.collect.Collector;
import io.dsogym.collect.ServerSideCollector;
import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.remote.WorkerSideCollector;
import io.dsogym.dso.ChainIteration;
import io.dsogym.dso.GradientStep;
import io.dsogym.dso.NaturalGradient;
import io.dsogym.dso.PolicyImprovement;
import io.dsogym.dso.PolicyRegularizer;
import io.dsogym.collect.PolicyTransitions;
import io.dsogym.dso.ProximalChainOptimization;
import io.dsogym.chain.StateCost;
import io.dsogym.dso.Surrogate;
import io.dsogym.env.VectorEnv;
import io.dsogym.remote.RemoteVectorEnv;
import io.dsogym.optim.Adam;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policies;
import io.dsogym.policy.Policy;
import io.dsogym.policy.PolicySpec;
import io.dsogym.dso.ValueFunction;
import io.dsogym.env.EnvUnavailableException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Training end to end (docs/math.md §3f, §4): each iteration collects a batch of chain transitions
 * under θ_k, evaluates V̂ fitted on the previous batch, computes Algorithm 1's backward weights
 * with that baseline (§3d), builds the surrogate S̃ of §4b from them (its gradient at θ_k is
 * Algorithm 1's estimate, Lemma 2), lets the chosen {@link PolicyImprovement} move θ (one Adam
 * step, PCO epochs, a natural-gradient step or Chain Iteration's Newton steps), then refits V̂
 * on this batch and updates the observation statistics. Optional entropy and KL chain costs
 * (§2e, §2f) join the env's cost. It evaluates, logs metrics, and checkpoints (see {@link
 * #CHECKPOINT_INTERVAL_NANOS}).
 */
public final class Trainer {
  private final TrainConfig config;
  private final LaneSource lanes;
  private final Path outDir;
  private final PrintStream console;
  private final Policy policy;
  private final ValueFunction value;
  private final Adam optimizer;
  private final ObservationNormalizer normalizer;
  private final Checkpoint.State state;
  private final Double threshold;
  private final Algorithm1.Options options;
  private final PolicyImprovement improvement;
  /** The fixed policy of --kl-reference and its own observation statistics, or null. */
  private final Checkpoint.State klReference;
  private final ObservationNormalizer klReferenceNormalizer;

  /**
   * Checkpoints are written after an evaluation, at the end, and otherwise at most every 10 s:
   * a 64x64 MLP's state is ~0.5 MB of JSON, too much to write for every small batch.
   */
  private static final long CHECKPOINT_INTERVAL_NANOS = 10_000_000_000L;

  private Collector collector;
  private long lastCheckpointNanos = System.nanoTime();
  private VectorEnv evalEnv;
  private double[] laneReturn;

  /**
   * @param resumed the checkpoint to continue from, or null for a fresh run
   */
  public Trainer(TrainConfig config, LaneSource lanes, VectorEnv trainEnv, Path outDir,
      Checkpoint.State resumed, PrintStream console) {
    this.config = config;
    this.lanes = lanes;
    this.outDir = outDir;
    this.console = console;
    PolicySpec.Activation act = PolicySpec.Activation.valueOf(
        config.activation().toUpperCase(Locale.ROOT));
    this.policy = Policies.forEnv(trainEnv.spec(), config.policyHidden(), act,
        config.initLogStd());
    int obsDim = policy.obsDim();
    this.value = new ValueFunction(obsDim, config.valueHidden(), act,
        config.valueLearningRate(), config.seed() + 1);
    this.optimizer = new Adam(config.learningRate());
    this.normalizer = new ObservationNormalizer(obsDim, config.normalizeObservations(), 10.0);
    this.threshold = config.targetReturn() != null ? config.targetReturn()
        : trainEnv.spec().rewardThreshold();
    this.options = new Algorithm1.Options(Algorithm1.Setting.DISCOUNTED, config.gamma(),
        config.lambda(), config.discountStates());
    if (resumed == null) {
      state = new Checkpoint.State();
      state.config = config;
      state.theta = policy.initialTheta(config.seed());
      state.nextEvalAt = config.evalEvery();
    } else {
      state = resumed;
      state.config = config;
      optimizer.restore(state.adamM, state.adamV, state.adamSteps);
      value.restore(state.valueTheta, state.valueAdamM, state.valueAdamV, state.valueAdamSteps);
      normalizer.set(state.obsMean, state.obsVar, state.obsCount);
    }
    this.klReference = config.surrogate().klReference() == null ? null
        : readReference(Path.of(config.surrogate().klReference()), policy.numParams());
    this.klReferenceNormalizer = klReference == null ? null
        : new ObservationNormalizer(obsDim, klReference.config.normalizeObservations(), 10.0);
    if (klReference != null) {
      klReferenceNormalizer.set(klReference.obsMean, klReference.obsVar, klReference.obsCount);
    }
    this.improvement = newImprovement();
    if (state.improverState != null) {
      improvement.restoreState(state.improverState);
    }
    this.collector = newCollector(trainEnv);
  }

  private PolicyImprovement newImprovement() {
    TrainConfig.SurrogateConfig s = config.surrogate();
    return switch (config.algo()) {
      case "gradient" -> new GradientStep(optimizer, config.maxGradNorm());
      case "pco" -> new ProximalChainOptimization(optimizer,
          new ProximalChainOptimization.Options(s.epochs(), s.minibatches(), s.clip(),
              s.annealClip(), s.targetKl(), config.maxGradNorm()), config.seed() * 7919 + 17);
      case "natural" -> new NaturalGradient(
          new NaturalGradient.Options(s.maxKl(), s.cgIterations(), s.cgDamping(), 10));
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

  /** Runs until {@code maxSteps} env steps; returns the summary written to summary.json. */
  public Map<String, Object> run() throws Exception {
    Files.createDirectories(outDir);
    TrajectoryBatch batch = new TrajectoryBatch(policy.obsDim(), policy.actionDim());
    int obsDim = policy.obsDim();
    Buffers buf = new Buffers();
    long startNanos = System.nanoTime();
    double wallBefore = state.wallSeconds;
    long stepsAtStart = state.envSteps;
    try (MetricsLog metrics = new MetricsLog(outDir.resolve("metrics.csv"), state.iteration)) {
      console.printf(Locale.ROOT, "[train] %s from %s, %s-side inference%s, %s, "
              + "%d lanes x %d steps per batch, %d policy parameters%s%n", config.envId(),
          config.source(), collector instanceof WorkerSideCollector ? "worker" : "server",
          config.collectAhead() ? " collecting ahead (one update stale, ratio-corrected)" : "",
          algorithmName(),
          config.numEnvs(), config.stepsPerLane(),
          policy.numParams(), state.iteration > 0 ? ", resumed at " + state.envSteps
              + " steps" : "");
      while (state.envSteps < config.maxSteps()) {
        long iterStart = System.nanoTime();
        try {
          collector.collect(state.theta, normalizer, config.stepsPerLane(), batch);
        } catch (EnvUnavailableException e) {
          replaceLostWorker(e);
          continue;
        }
        int n = batch.size();  // lanes may change when a lost worker is replaced
        buf.ensure(n, obsDim);
        double[] zObs = buf.zObs;
        double[] zNext = buf.zNext;
        double[] v = buf.value;
        double[] vNext = buf.nextValue;
        double[] weights = buf.weights;
        double[] targets = buf.targets;
        state.iteration++;
        state.envSteps += n;
        double trainReturn = recordEpisodes(batch);

        for (int i = 0; i < n; i++) {
          normalizer.normalize(batch.obs, i * obsDim, zObs, i * obsDim);
          normalizer.normalize(batch.nextObs, i * obsDim, zNext, i * obsDim);
        }
        // V̂ is fit in units of valueScale (the RMS of past targets), so one learning rate
        // suits envs whose returns are 10 or 1000; predictions are scaled back here.
        value.predictBatch(zObs, n, v);
        value.predictBatch(zNext, n, vNext);
        scale(v, state.valueScale);
        scale(vNext, state.valueScale);
        StateCost regularizer = regularizer(batch, zObs, n);
        double[] regularizerCost = null;
        if (regularizer != StateCost.NONE) {
          // The chain cost is L = ℓ + L_reg (§2e/§2f): V̂ and the weights see the whole cost.
          // The surrogate reuses these values as its L(x, θ_k).
          regularizerCost = buf.regularizerCost;
          for (int i = 0; i < n; i++) {
            regularizerCost[i] = regularizer.cost(state.theta, i);
            batch.cost[i] += regularizerCost[i];
          }
        }
        Algorithm1.weights(batch, v, vNext, options, 0.0, weights, targets);
        if (config.normalizeAdvantages()) {
          standardize(weights);
        }
        for (int i = 0; i < n; i++) {
          buf.advantage[i] = weights[i] / n;
          buf.stateWeight[i] = Algorithm1.stateWeight(batch, i, options) / n;
        }
        Surrogate surrogate = new Surrogate(
            new PolicyTransitions(policy, zObs, batch.actions, n), regularizer, state.theta,
            buf.advantage, buf.stateWeight, regularizerCost);
        if (batch.offChain) {
          surrogate.withBehaviour(batch.logProb);  // collected under θ_{k-1} (collect-ahead)
        }
        double progress = Math.min(1.0, (double) state.envSteps / config.maxSteps());
        double lr = config.learningRate() * (config.annealLearningRate()
            ? Math.max(0.05, 1.0 - progress) : 1.0);
        optimizer.setLearningRate(lr);
        PolicyImprovement.Report report = improvement.improve(surrogate, state.theta, progress);
        state.improverState = improvement.state();
        // §3f step 5: refit V̂ on this batch, for use at the next iteration.
        updateValueScale(targets);
        scale(targets, 1.0 / state.valueScale);
        double valueLoss = value.fit(zObs, targets, n, config.valueEpochs(),
            config.valueMinibatch(), new SplittableRandom(config.seed() * 31 + state.iteration));
        normalizer.update(batch.obs, n);

        double evalMean = Double.NaN;
        double evalStd = Double.NaN;
        if (state.envSteps >= state.nextEvalAt || state.envSteps >= config.maxSteps()) {
          double[] returns = evaluate();
          evalMean = Evaluator.mean(returns);
          evalStd = Evaluator.std(returns);
          state.lastEvalMean = evalMean;
          state.lastEvalStd = evalStd;
          while (state.nextEvalAt <= state.envSteps) {
            state.nextEvalAt += config.evalEvery();
          }
          if (state.stepsToThreshold == null && threshold != null && evalMean >= threshold) {
            state.stepsToThreshold = state.envSteps;
          }
        }
        state.wallSeconds = wallBefore + (System.nanoTime() - startNanos) / 1e9;
        double stepsPerSecond = n / ((System.nanoTime() - iterStart) / 1e9);
        metrics.row(state.iteration, state.envSteps, state.episodes, state.wallSeconds,
            stepsPerSecond, trainReturn, evalMean, evalStd, valueLoss, report.gradNorm(), lr,
            policyStd(), report.kl(), report.surrogateChange());
        boolean last = state.envSteps >= config.maxSteps();
        if (last || !Double.isNaN(evalMean)
            || System.nanoTime() - lastCheckpointNanos > CHECKPOINT_INTERVAL_NANOS) {
          saveCheckpoint();
          lastCheckpointNanos = System.nanoTime();
        }
        progress(trainReturn, stepsPerSecond, stepsAtStart, startNanos, report.detail());
      }
    } finally {
      collector.close();
      if (evalEnv != null) {
        evalEnv.close();
      }
    }
    Map<String, Object> summary = summary();
    Summaries.write(outDir, summary);
    LearningCurvePlot.write(outDir.resolve("metrics.csv"), outDir.resolve("learning_curve.png"),
        config.envId() + " - " + config.algo() + " (seed " + config.seed() + ")", threshold);
    return summary;
  }

  /** Per-transition work arrays, reallocated only when the batch size changes. */
  private static final class Buffers {
    double[] zObs = new double[0];
    double[] zNext = new double[0];
    double[] value = new double[0];
    double[] nextValue = new double[0];
    double[] weights = new double[0];
    double[] targets = new double[0];
    double[] advantage = new double[0];
    double[] stateWeight = new double[0];
    double[] regularizerCost = new double[0];

    void ensure(int n, int obsDim) {
      if (value.length != n) {
        regularizerCost = new double[n];
        advantage = new double[n];
        stateWeight = new double[n];
        zObs = new double[n * obsDim];
        zNext = new double[n * obsDim];
        value = new double[n];
        nextValue = new double[n];
        weights = new double[n];
        targets = new double[n];
      }
    }
  }

  private Collector newCollector(VectorEnv env) {
    laneReturn = new double[env.numEnvs()];
    long samplerSeed = config.seed() * 1_000_003L + state.iteration;
    long resetSeed = config.seed() + 10_007L * state.iteration;
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
   * {@code worker}: required (an error if the lanes cannot do it); {@code auto}: wherever the
   * lanes are a Python worker that declared the capability; {@code server}: never.
   */
  private boolean useWorkerInference(VectorEnv env) {
    boolean capable = env instanceof RemoteVectorEnv remote && remote.supportsWorkerInference();
    if (config.inference().equals("worker") && !capable) {
      throw new IllegalArgumentException("--inference worker: expected lanes served by a "
          + "Python worker with the capability " + RemoteVectorEnv.WORKER_INFERENCE + ", got "
          + (env instanceof RemoteVectorEnv ? "a worker without it" : "Java-native lanes"));
    }
    return capable && !config.inference().equals("server");
  }

  /** A worker died mid-batch: its partial batch is dropped (θ is unchanged) and lanes reopened. */
  private void replaceLostWorker(EnvUnavailableException e) throws Exception {
    console.printf("[train] lost the env worker (%s); the batch in progress is dropped and "
        + "training goes on: %s%n", e.getMessage(), lanes.replacementNote());
    collector.close();
    collector = newCollector(lanes.open(config.numEnvs(), "train"));
    console.println("[train] new lanes connected; continuing");
  }

  private double[] evaluate() throws Exception {
    for (int attempt = 0; ; attempt++) {
      try {
        if (evalEnv == null) {
          evalEnv = lanes.open(Math.min(config.evalEpisodes(), 32), "eval");
        }
        return Evaluator.evaluate(evalEnv, policy, state.theta, normalizer,
            config.evalEpisodes(), config.seed() + 1_000_000L + state.iteration * 1_000L);
      } catch (EnvUnavailableException e) {
        if (attempt > 0) {
          throw e;
        }
        console.printf("[train] lost the evaluation worker (%s): %s%n", e.getMessage(),
            lanes.replacementNote());
        evalEnv.close();
        evalEnv = null;
      }
    }
  }

  /** Adds the batch's rewards to each lane's episode; returns the mean of episodes ended. */
  private double recordEpisodes(TrajectoryBatch b) {
    double sum = 0;
    int count = 0;
    for (int i = 0; i < b.size(); i++) {
      int lane = i % b.numLanes;
      laneReturn[lane] -= b.cost[i];
      if (b.ended(i)) {
        sum += laneReturn[lane];
        count++;
        laneReturn[lane] = 0;
      }
    }
    state.episodes += count;
    return count == 0 ? Double.NaN : sum / count;
  }

  private double policyStd() {
    if (policy.spec().head() != PolicySpec.Head.GAUSSIAN) {
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
    state.adamM = optimizer.m();
    state.adamV = optimizer.v();
    state.adamSteps = optimizer.steps();
    state.valueTheta = value.theta();
    state.valueAdamM = value.adamM();
    state.valueAdamV = value.adamV();
    state.valueAdamSteps = value.adamSteps();
    state.obsMean = normalizer.mean();
    state.obsVar = normalizer.var();
    state.obsCount = normalizer.count();
    Checkpoint.write(outDir, state);
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
    s.put("inference", collector instanceof WorkerSideCollector ? "worker" : "server");
    s.put("collect_ahead", config.collectAhead());
    s.put("env_steps", state.envSteps);
    s.put("iterations", state.iteration);
    s.put("episodes", state.episodes);
    s.put("wall_seconds", state.wallSeconds);
    s.put("eval_episodes", config.evalEpisodes());
    s.put("eval_mean_return", state.lastEvalMean);
    s.put("eval_std_return", state.lastEvalStd);
    s.put("threshold", threshold);
    s.put("steps_to_threshold", state.stepsToThreshold);
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
    state.valueScale = Math.max(1e-3, Math.sqrt(state.valueSquareMean));
  }

  private static void standardize(double[] w) {
    double mean = 0;
    for (double x : w) {
      mean += x;
    }
    mean /= w.length;
    double var = 0;
    for (double x : w) {
      var += (x - mean) * (x - mean);
    }
    double inv = 1.0 / (Math.sqrt(var / w.length) + 1e-8);
    for (int i = 0; i < w.length; i++) {
      w[i] = (w[i] - mean) * inv;
    }
  }

  /**
   * The regularizing chain costs at the batch's states: -β H (§2e) and λ KL(π_ref ‖ π_θ)
   * (§2f). π_ref is the --kl-reference run's policy, seeing the observations through its own
   * statistics, or else π_θk: the proximal cost, zero at θ_k, which pulls the surrogate's
   * minimizer back toward θ_k.
   */
  private StateCost regularizer(TrajectoryBatch batch, double[] zObs, int n) {
    TrainConfig.SurrogateConfig s = config.surrogate();
    if (s.entropyCoef() == 0 && s.klCoef() == 0) {
      return StateCost.NONE;
    }
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
