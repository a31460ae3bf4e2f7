package io.dsogym.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Per-env default hyperparameters (the values the README's results were measured with) and
 * the parsing of train options over them: an option given on the command line wins.
 */
public final class TrainPresets {
  private TrainPresets() {}

  /** Defaults as option strings, for every env and then per env id. */
  static Map<String, String> defaults(String envId) {
    Map<String, String> d = new java.util.LinkedHashMap<>(Map.ofEntries(
        Map.entry("--source", "python"), Map.entry("--algo", "gradient"),
        Map.entry("--inference", "auto"), Map.entry("--seed", "0"),
        Map.entry("--max-steps", "100000"), Map.entry("--num-envs", "8"),
        Map.entry("--steps-per-lane", "128"), Map.entry("--hidden", ""),
        Map.entry("--value-hidden", "64,64"), Map.entry("--activation", "tanh"),
        Map.entry("--init-log-std", "0"), Map.entry("--lr", "0.01"),
        Map.entry("--value-lr", "0.001"), Map.entry("--value-epochs", "10"),
        Map.entry("--value-minibatch", "64"), Map.entry("--gamma", "0.99"),
        Map.entry("--lambda", "0.95"), Map.entry("--discount-states", "false"),
        Map.entry("--normalize-obs", "true"), Map.entry("--normalize-advantages", "true"),
        Map.entry("--max-grad-norm", "0"), Map.entry("--anneal-lr", "false"),
        Map.entry("--eval-every", "5000"), Map.entry("--eval-episodes", "20"),
        Map.entry("--epochs", "10"), Map.entry("--minibatches", "4"),
        Map.entry("--clip", "0.2"), Map.entry("--anneal-clip", "false"),
        Map.entry("--target-kl", "0"), Map.entry("--max-kl", "0.01"),
        Map.entry("--cg-iters", "10"), Map.entry("--cg-damping", "0.1"),
        Map.entry("--ci-steps", "2"), Map.entry("--entropy-coef", "0"),
        Map.entry("--kl-coef", "0")));
    if (envId.startsWith("CartPole")) {
      d.putAll(Map.of("--max-steps", "50000", "--lr", "0.03", "--steps-per-lane", "64"));
    } else if (envId.startsWith("Pendulum")) {
      d.putAll(Map.ofEntries(Map.entry("--max-steps", "500000"), Map.entry("--hidden", "64,64"),
          Map.entry("--num-envs", "16"), Map.entry("--steps-per-lane", "16"),
          Map.entry("--lr", "0.003"), Map.entry("--value-lr", "0.003"),
          Map.entry("--value-epochs", "4"), Map.entry("--gamma", "0.95"),
          Map.entry("--lambda", "0.9"), Map.entry("--init-log-std", "-0.5"),
          Map.entry("--eval-every", "25000"), Map.entry("--eval-episodes", "10"),
          Map.entry("--target-return", "-250")));
    }
    return d;
  }

  /** Builds the config of a fresh run from the defaults and the given options. */
  public static TrainConfig config(String envId, Map<String, String> opts) {
    Map<String, String> o = defaults(envId);
    o.putAll(opts);
    String target = o.get("--target-return");
    return new TrainConfig(envId, o.get("--source"), o.get("--algo"), o.get("--inference"),
        longOption(o, "--seed"), longOption(o, "--max-steps"), (int) longOption(o, "--num-envs"),
        (int) longOption(o, "--steps-per-lane"), sizes(o, "--hidden"), sizes(o, "--value-hidden"),
        o.get("--activation"), doubleOption(o, "--init-log-std"), doubleOption(o, "--lr"),
        doubleOption(o, "--value-lr"), (int) longOption(o, "--value-epochs"),
        (int) longOption(o, "--value-minibatch"), doubleOption(o, "--gamma"),
        doubleOption(o, "--lambda"), bool(o, "--discount-states"), bool(o, "--normalize-obs"),
        bool(o, "--normalize-advantages"), doubleOption(o, "--max-grad-norm"),
        bool(o, "--anneal-lr"), longOption(o, "--eval-every"),
        (int) longOption(o, "--eval-episodes"),
        target == null ? null : doubleOption(o, "--target-return"), o.get("--env-kwargs"),
        new TrainConfig.SurrogateConfig((int) longOption(o, "--epochs"),
            (int) longOption(o, "--minibatches"), doubleOption(o, "--clip"),
            bool(o, "--anneal-clip"), doubleOption(o, "--target-kl"), doubleOption(o, "--max-kl"),
            (int) longOption(o, "--cg-iters"), doubleOption(o, "--cg-damping"),
            (int) longOption(o, "--ci-steps"), doubleOption(o, "--entropy-coef"),
            doubleOption(o, "--kl-coef")));
  }

  public static TrainConfig withMaxSteps(TrainConfig c, long maxSteps) {
    return new TrainConfig(c.envId(), c.source(), c.algo(), c.inference(), c.seed(), maxSteps,
        c.numEnvs(), c.stepsPerLane(), c.policyHidden(), c.valueHidden(), c.activation(),
        c.initLogStd(), c.learningRate(), c.valueLearningRate(), c.valueEpochs(),
        c.valueMinibatch(), c.gamma(), c.lambda(), c.discountStates(),
        c.normalizeObservations(), c.normalizeAdvantages(), c.maxGradNorm(),
        c.annealLearningRate(), c.evalEvery(), c.evalEpisodes(), c.targetReturn(),
        c.envKwargsJson(), c.surrogate());
  }

  public static long longOption(Map<String, String> o, String name) {
    String v = o.get(name);
    try {
      return Long.parseLong(v.replace("_", ""));
    } catch (NumberFormatException | NullPointerException e) {
      throw new IllegalArgumentException(name + ": expected an integer, got '" + v + "'");
    }
  }

  static double doubleOption(Map<String, String> o, String name) {
    String v = o.get(name);
    try {
      return Double.parseDouble(v);
    } catch (NumberFormatException | NullPointerException e) {
      throw new IllegalArgumentException(name + ": expected a number, got '" + v + "'");
    }
  }

  static boolean bool(Map<String, String> o, String name) {
    String v = o.get(name);
    if (v.equals("true") || v.equals("false")) {
      return Boolean.parseBoolean(v);
    }
    throw new IllegalArgumentException(name + ": expected true or false, got '" + v + "'");
  }

  /** "64,64" -> [64, 64]; "" or "none" -> [] (a linear model). */
  static List<Integer> sizes(Map<String, String> o, String name) {
    String v = o.get(name).trim();
    List<Integer> out = new ArrayList<>();
    if (v.isEmpty() || v.equals("none")) {
      return out;
    }
    for (String part : v.split(",")) {
      try {
        out.add(Integer.parseInt(part.trim()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(name + ": expected comma-separated layer sizes like "
            + "64,64, got '" + v + "'");
      }
    }
    return out;
  }
}
