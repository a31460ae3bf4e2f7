package io.dsogym.train;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Everything that defines a training run; saved in the checkpoint so that a resumed run
 * continues with the same settings. Defaults are those tuned for CartPole-v1 (docs/training.md).
 * From Java, build one with {@link #builder}: the env's presets, then what you set.
 *
 * @param collectAhead worker-side inference: the worker collects the next batch under θ_k
 *     while θ_{k+1} is computed, and the surrogate's ratios correct for the staleness
 *     (WorkerSideCollector#setCollectAhead); false: wait for each update (on-chain)
 * @param numEnvs lanes collected in parallel
 * @param stepsPerLane steps per lane per iteration: the batch is numEnvs * stepsPerLane
 * @param gamma discount of docs/math.md §1a (the env reward is the negated cost)
 * @param lambda λ-mixture of Monte-Carlo returns and critic targets (docs/math.md §3d)
 * @param discountStates weight x_t by γ^t as Theorem 1 does (true) or uniformly (false)
 * @param setting the cost setting: discounted (docs/math.md §1a), average (§1b: the long-run
 *     cost per step of the chain that continues through resets) or finite-horizon (§1c: each
 *     episode's undiscounted total, γ = 1)
 * @param targetReturn the evaluation return that counts as solved (steps_to_threshold); null
 *     means the env's reward threshold
 * @param systemParams the blocks of a parametric system's φ that θ also holds and trains with
 *     the policy (docs/math.md §10: θ in the dynamics and the cost); empty: the policy alone
 * @param onNonFinite what a batch holding a NaN or infinite reward, observation or action
 *     does: "stop" training (after a checkpoint of the state before it) or "drop" it and go on
 * @param numWorkers how many workers collect each batch in parallel, each with numEnvs /
 *     numWorkers lanes (null in checkpoints written before it: 1)
 * @param batchQuorum the fraction of the lanes whose chunks, collected under the current θ,
 *     close a batch; a worker still collecting then delivers its chunk into the next batch,
 *     off-chain (null in older checkpoints: 1, wait for every worker)
 */
public record TrainConfig(
    String envId,
    String source,
    String algo,
    String inference,
    boolean collectAhead,
    long seed,
    long maxSteps,
    int numEnvs,
    int stepsPerLane,
    List<Integer> policyHidden,
    List<Integer> valueHidden,
    String activation,
    double initLogStd,
    double learningRate,
    double valueLearningRate,
    int valueEpochs,
    int valueMinibatch,
    double gamma,
    double lambda,
    boolean discountStates,
    String setting,
    boolean normalizeObservations,
    boolean normalizeAdvantages,
    double maxGradNorm,
    boolean annealLearningRate,
    long evalEvery,
    int evalEpisodes,
    Double targetReturn,
    String envKwargsJson,
    List<String> systemParams,
    String onNonFinite,
    Integer numWorkers,
    Double batchQuorum,
    SurrogateConfig surrogate) {

  /** The cost settings of {@code --setting}. */
  public static final java.util.List<String> SETTINGS = java.util.List.of("discounted",
      "average", "finite-horizon");

  /** The choices of {@code --on-non-finite}. */
  public static final java.util.List<String> ON_NON_FINITE = java.util.List.of("stop", "drop");

  /** The algorithms of {@code --algo}. */
  public static final java.util.List<String> ALGORITHMS = java.util.List.of("gradient", "pco",
      "natural", "chain-iteration");

  /**
   * The settings of the surrogate-based optimizers (docs/math.md §4) and of the regularizing chain
   * costs (§2e, §2f); ignored where an algorithm has no use for them.
   *
   * @param epochs PCO: passes over each batch
   * @param minibatches PCO: minibatches per epoch
   * @param clip PCO: the ratio clip ε
   * @param annealClip PCO: shrink ε linearly to 0 over the run
   * @param targetKl PCO: stop a batch's epochs once the sampled chain KL passes 1.5 × this (0:
   *     never)
   * @param maxKl natural gradient and Chain Iteration: the KL trust region per batch
   * @param cgIterations natural gradient and Chain Iteration: conjugate-gradient iterations
   * @param cgDamping natural gradient: δ in (F + δI) w = g; Chain Iteration: the initial μ
   * @param newtonSteps Chain Iteration: damped Newton steps per batch
   * @param entropyCoef β of the maximum-entropy chain cost -β H[π(·|x)] (§2e)
   * @param klCoef λ of the KL chain cost λ KL(π_θ(·|x) ‖ π_ref(·|x)) (§2f)
   * @param klReference the run directory whose checkpointed policy is π_ref (KL-regularized
   *     control toward a fixed policy); null: π_ref = π_θk, the previous policy (proximal)
   * @param boundCoef κ of the chain cost κ Σ_j max(0, μ_j beyond the action Box)² on a
   *     Gaussian policy's mean (0: none)
   */
  public record SurrogateConfig(int epochs, int minibatches, double clip, boolean annealClip,
      double targetKl, double maxKl, int cgIterations, double cgDamping, int newtonSteps,
      double entropyCoef, double klCoef, String klReference, double boundCoef) {
    public SurrogateConfig {
      require(epochs >= 1, "epochs", "a positive count", epochs);
      require(minibatches >= 1, "minibatches", "a positive count", minibatches);
      require(clip > 0 && clip < 1, "clip", "0 < clip < 1", clip);
      require(targetKl >= 0, "target-kl", "a KL >= 0 (0: no early stop)", targetKl);
      require(maxKl > 0, "max-kl", "a positive KL", maxKl);
      require(cgIterations >= 1, "cg-iters", "a positive count", cgIterations);
      require(cgDamping >= 0, "cg-damping", "a damping >= 0", cgDamping);
      require(newtonSteps >= 1, "ci-steps", "a positive count", newtonSteps);
      require(entropyCoef >= 0, "entropy-coef", "a coefficient >= 0", entropyCoef);
      require(klCoef >= 0, "kl-coef", "a coefficient >= 0", klCoef);
      require(boundCoef >= 0, "bound-coef", "a coefficient >= 0", boundCoef);
      require(klReference == null || klCoef > 0, "kl-reference",
          "a --kl-coef > 0 to weigh the KL to the reference with", "--kl-coef " + klCoef);
    }
  }

  public TrainConfig {
    policyHidden = List.copyOf(policyHidden);
    // checkpoints written before --system-params have none
    systemParams = systemParams == null ? List.of() : List.copyOf(systemParams);
    setting = setting == null ? "discounted" : setting;  // checkpoints written before --setting
    onNonFinite = onNonFinite == null ? "stop" : onNonFinite;  // and before --on-non-finite
    numWorkers = numWorkers == null ? 1 : numWorkers;  // and before --num-workers
    batchQuorum = batchQuorum == null ? 1.0 : batchQuorum;
    valueHidden = List.copyOf(valueHidden);
    require(maxSteps > 0, "max-steps", "a positive number of env steps", maxSteps);
    require(numEnvs > 0, "num-envs", "a positive lane count", numEnvs);
    require(stepsPerLane > 0, "steps-per-lane", "a positive count", stepsPerLane);
    require(numWorkers >= 1, "num-workers", "a positive worker count", numWorkers);
    require(numEnvs % numWorkers == 0, "num-envs", "a multiple of --num-workers " + numWorkers
        + " (the lanes are split evenly over the workers)", numEnvs);
    require(batchQuorum > 0 && batchQuorum <= 1, "batch-quorum",
        "a fraction of the lanes, 0 < F <= 1", batchQuorum);
    require(gamma > 0 && gamma <= 1, "gamma", "0 < gamma <= 1", gamma);
    require(lambda >= 0 && lambda <= 1, "lambda", "0 <= lambda <= 1", lambda);
    require(learningRate > 0, "lr", "a positive learning rate", learningRate);
    require(evalEpisodes > 0, "eval-episodes", "a positive count", evalEpisodes);
    require(evalEvery > 0, "eval-every", "a positive number of env steps", evalEvery);
    require(SETTINGS.contains(setting), "setting", "one of " + String.join(", ", SETTINGS),
        setting);
    require(!setting.equals("finite-horizon") || gamma == 1.0, "gamma",
        "1 with --setting finite-horizon (the episode's undiscounted total)", gamma);
    require(ON_NON_FINITE.contains(onNonFinite), "on-non-finite",
        "one of " + String.join(", ", ON_NON_FINITE), onNonFinite);
    require(ALGORITHMS.contains(algo), "algo", "one of " + String.join(", ", ALGORITHMS), algo);
    require(surrogate != null, "surrogate settings", "present", "null");
    require(inference.equals("server") || inference.equals("worker")
        || inference.equals("auto"), "inference", "auto, server or worker", inference);
    require(activation.equals("tanh") || activation.equals("relu"), "activation", "tanh or relu",
        activation);
  }

  private static void require(boolean ok, String field, String expected, Object actual) {
    if (!ok) {
      throw new IllegalArgumentException("--" + field + ": expected " + expected + ", got "
          + actual);
    }
  }

  /**
   * A typed builder over the env's presets (the same defaults as {@code dsogym train --env}):
   * {@code TrainConfig.builder("CartPole-v1").algo("natural").maxSteps(50_000).build()}. Each
   * method sets the {@code train} option of the same meaning (docs/training.md); what is not set
   * keeps the env's (and algorithm's) preset.
   */
  public static Builder builder(String envId) {
    return new Builder(envId);
  }

  /** See {@link #builder}. {@link #build} validates, naming the method of a bad value. */
  public static final class Builder {
    private final String envId;
    /** option ("--max-steps") -> value as the command line would give it */
    private final Map<String, String> options = new LinkedHashMap<>();
    /** option -> the builder method that set it, for error messages */
    private final Map<String, String> setBy = new LinkedHashMap<>();

    private Builder(String envId) {
      if (envId == null || envId.isBlank()) {
        throw new IllegalArgumentException("envId: expected an env id such as CartPole-v1, got "
            + (envId == null ? "null" : "'" + envId + "'"));
      }
      this.envId = envId;
    }

    private Builder set(String method, String option, Object value) {
      if (value == null) {
        throw new IllegalArgumentException(method + ": expected a value, got null");
      }
      options.put(option, value.toString());
      setBy.put(option, method);
      return this;
    }

    private static String sizes(int... sizes) {
      return Arrays.stream(sizes).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }

    /** "java" (Java-native envs in this process) or "python" (a local Gymnasium worker). */
    public Builder source(String source) {
      if (!"java".equals(source) && !"python".equals(source)) {
        throw new IllegalArgumentException("source: expected java or python, got "
            + (source == null ? "null" : "'" + source + "'"));
      }
      return set("source", "--source", source);
    }

    /** One of {@link TrainConfig#ALGORITHMS}: gradient, pco, natural, chain-iteration. */
    public Builder algo(String algo) {
      return set("algo", "--algo", algo);
    }

    /** auto, server or worker (where the policy is evaluated). */
    public Builder inference(String inference) {
      return set("inference", "--inference", inference);
    }

    public Builder collectAhead(boolean on) {
      return set("collectAhead", "--collect-ahead", on);
    }

    public Builder seed(long seed) {
      return set("seed", "--seed", seed);
    }

    public Builder maxSteps(long envSteps) {
      return set("maxSteps", "--max-steps", envSteps);
    }

    public Builder numEnvs(int lanes) {
      return set("numEnvs", "--num-envs", lanes);
    }

    public Builder stepsPerLane(int steps) {
      return set("stepsPerLane", "--steps-per-lane", steps);
    }

    /** The policy's hidden layer sizes; none: a linear policy. */
    public Builder policyHidden(int... sizes) {
      return set("policyHidden", "--hidden", sizes(sizes));
    }

    /** The critic's hidden layer sizes. */
    public Builder valueHidden(int... sizes) {
      return set("valueHidden", "--value-hidden", sizes(sizes));
    }

    /** tanh or relu. */
    public Builder activation(String activation) {
      return set("activation", "--activation", activation);
    }

    public Builder initLogStd(double logStd) {
      return set("initLogStd", "--init-log-std", logStd);
    }

    public Builder learningRate(double lr) {
      return set("learningRate", "--lr", lr);
    }

    public Builder valueLearningRate(double lr) {
      return set("valueLearningRate", "--value-lr", lr);
    }

    public Builder valueEpochs(int epochs) {
      return set("valueEpochs", "--value-epochs", epochs);
    }

    public Builder valueMinibatch(int size) {
      return set("valueMinibatch", "--value-minibatch", size);
    }

    public Builder gamma(double gamma) {
      return set("gamma", "--gamma", gamma);
    }

    public Builder lambda(double lambda) {
      return set("lambda", "--lambda", lambda);
    }

    public Builder discountStates(boolean on) {
      return set("discountStates", "--discount-states", on);
    }

    /** One of {@link TrainConfig#SETTINGS}; finite-horizon sets γ = 1 unless gamma is given. */
    public Builder setting(String setting) {
      return set("setting", "--setting", setting);
    }

    public Builder normalizeObservations(boolean on) {
      return set("normalizeObservations", "--normalize-obs", on);
    }

    public Builder normalizeAdvantages(boolean on) {
      return set("normalizeAdvantages", "--normalize-advantages", on);
    }

    /** 0: no clipping. */
    public Builder maxGradNorm(double norm) {
      return set("maxGradNorm", "--max-grad-norm", norm);
    }

    public Builder annealLearningRate(boolean on) {
      return set("annealLearningRate", "--anneal-lr", on);
    }

    public Builder evalEvery(long envSteps) {
      return set("evalEvery", "--eval-every", envSteps);
    }

    public Builder evalEpisodes(int episodes) {
      return set("evalEpisodes", "--eval-episodes", episodes);
    }

    /** The evaluation return that counts as solved (default: the env's reward threshold). */
    public Builder targetReturn(double target) {
      return set("targetReturn", "--target-return", target);
    }

    /** Keyword arguments of the env's constructor, as a JSON object. */
    public Builder envKwargsJson(String json) {
      return set("envKwargsJson", "--env-kwargs", json);
    }

    /** The blocks of a parametric system's φ that θ also trains (docs/math.md §10). */
    public Builder systemParams(String... blocks) {
      return set("systemParams", "--system-params", String.join(",", blocks));
    }

    /** stop or drop. */
    public Builder onNonFinite(String what) {
      return set("onNonFinite", "--on-non-finite", what);
    }

    /** Workers collecting each batch in parallel; numEnvs is split evenly over them. */
    public Builder numWorkers(int workers) {
      return set("numWorkers", "--num-workers", workers);
    }

    /** The fraction of the lanes that closes a batch (1: wait for every worker). */
    public Builder batchQuorum(double fraction) {
      return set("batchQuorum", "--batch-quorum", fraction);
    }

    public Builder epochs(int epochs) {
      return set("epochs", "--epochs", epochs);
    }

    public Builder minibatches(int minibatches) {
      return set("minibatches", "--minibatches", minibatches);
    }

    public Builder clip(double epsilon) {
      return set("clip", "--clip", epsilon);
    }

    public Builder annealClip(boolean on) {
      return set("annealClip", "--anneal-clip", on);
    }

    public Builder targetKl(double kl) {
      return set("targetKl", "--target-kl", kl);
    }

    public Builder maxKl(double kl) {
      return set("maxKl", "--max-kl", kl);
    }

    public Builder cgIterations(int iterations) {
      return set("cgIterations", "--cg-iters", iterations);
    }

    public Builder cgDamping(double damping) {
      return set("cgDamping", "--cg-damping", damping);
    }

    public Builder newtonSteps(int steps) {
      return set("newtonSteps", "--ci-steps", steps);
    }

    public Builder entropyCoef(double beta) {
      return set("entropyCoef", "--entropy-coef", beta);
    }

    public Builder klCoef(double lambda) {
      return set("klCoef", "--kl-coef", lambda);
    }

    public Builder boundCoef(double kappa) {
      return set("boundCoef", "--bound-coef", kappa);
    }

    /** The run directory whose checkpointed policy is the KL's reference. */
    public Builder klReference(String runDir) {
      return set("klReference", "--kl-reference", runDir);
    }

    /**
     * The config: the presets with what was set laid over them, validated.
     *
     * @throws IllegalArgumentException naming the builder method and the option of a bad value
     */
    public TrainConfig build() {
      try {
        return TrainPresets.config(envId, options);
      } catch (IllegalArgumentException e) {
        // TrainConfig and the presets speak in options ("--lr: ..."): say which call it was
        String message = String.valueOf(e.getMessage());
        for (Map.Entry<String, String> o : setBy.entrySet()) {
          if (message.startsWith(o.getKey() + ":")) {
            throw new IllegalArgumentException(o.getValue()
                + message.substring(o.getKey().length()) + " (the option " + o.getKey() + ")", e);
          }
        }
        throw e;
      }
    }
  }

  public int batchSize() {
    return numEnvs * stepsPerLane;
  }

  /** The lanes of each worker. */
  public int lanesPerWorker() {
    return numEnvs / numWorkers;
  }
}
