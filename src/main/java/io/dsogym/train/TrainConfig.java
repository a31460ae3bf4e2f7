package io.dsogym.train;

import java.util.List;

/**
 * Everything that defines a training run; saved in the checkpoint so that a resumed run
 * continues with the same settings. Defaults are those tuned for CartPole-v1 (docs/training.md).
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
   */
  public record SurrogateConfig(int epochs, int minibatches, double clip, boolean annealClip,
      double targetKl, double maxKl, int cgIterations, double cgDamping, int newtonSteps,
      double entropyCoef, double klCoef, String klReference) {
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
    valueHidden = List.copyOf(valueHidden);
    require(maxSteps > 0, "max-steps", "a positive number of env steps", maxSteps);
    require(numEnvs > 0, "num-envs", "a positive lane count", numEnvs);
    require(stepsPerLane > 0, "steps-per-lane", "a positive count", stepsPerLane);
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

  public int batchSize() {
    return numEnvs * stepsPerLane;
  }
}
