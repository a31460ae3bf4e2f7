package io.dsogym.train;

import java.util.List;

/**
 * Everything that defines a training run; saved in the checkpoint so that a resumed run
 * continues with the same settings. Defaults are those tuned for CartPole-v1 (README).
 *
 * @param numEnvs lanes collected in parallel
 * @param stepsPerLane steps per lane per iteration: the batch is numEnvs * stepsPerLane
 * @param gamma discount of DSO.md §1a (the env reward is the negated cost)
 * @param lambda λ-mixture of Monte-Carlo returns and critic targets (DSO.md §3d)
 * @param discountStates weight x_t by γ^t as Theorem 1 does (true) or uniformly (false)
 * @param targetReturn the evaluation return that counts as solved (steps_to_threshold); null
 *     means the env's reward threshold
 */
public record TrainConfig(
    String envId,
    String source,
    String algo,
    String inference,
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
    boolean normalizeObservations,
    boolean normalizeAdvantages,
    double maxGradNorm,
    boolean annealLearningRate,
    long evalEvery,
    int evalEpisodes,
    Double targetReturn,
    String envKwargsJson) {

  public TrainConfig {
    policyHidden = List.copyOf(policyHidden);
    valueHidden = List.copyOf(valueHidden);
    require(maxSteps > 0, "max-steps", "a positive number of env steps", maxSteps);
    require(numEnvs > 0, "num-envs", "a positive lane count", numEnvs);
    require(stepsPerLane > 0, "steps-per-lane", "a positive count", stepsPerLane);
    require(gamma > 0 && gamma <= 1, "gamma", "0 < gamma <= 1", gamma);
    require(lambda >= 0 && lambda <= 1, "lambda", "0 <= lambda <= 1", lambda);
    require(learningRate > 0, "lr", "a positive learning rate", learningRate);
    require(evalEpisodes > 0, "eval-episodes", "a positive count", evalEpisodes);
    require(evalEvery > 0, "eval-every", "a positive number of env steps", evalEvery);
    require(algo.equals("gradient"), "algo", "gradient (Algorithm 1)", algo);
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
