package io.dsogym.cli;

import io.dsogym.train.TrainConfig;
import io.dsogym.train.TrainPresets;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The defaults that {@code train --help} shows: the generic ones of {@link TrainPresets} (the
 * config of an env that no preset matches), read back from that config as option strings.
 * TrainPresets stays the one source of defaults: the train command passes on only the options
 * the user gave, and TrainPresets fills in the rest per env.
 */
final class TrainDefaults implements IDefaultValueProvider {
  /** An env id that no preset's prefix matches. */
  static final String NO_PRESET_ENV = "(no preset)";

  /** Option name -> its generic default as it would be written on the command line. */
  static final Map<String, String> GENERIC = generic();

  @Override
  public String defaultValue(ArgSpec arg) {
    return arg instanceof OptionSpec o ? GENERIC.get(o.longestName()) : null;
  }

  private static Map<String, String> generic() {
    TrainConfig c = TrainPresets.config(NO_PRESET_ENV, Map.of());
    TrainConfig.SurrogateConfig s = c.surrogate();
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("--source", c.source());
    d.put("--algo", c.algo());
    d.put("--inference", c.inference());
    d.put("--collect-ahead", c.collectAhead());
    d.put("--setting", c.setting());
    d.put("--seed", c.seed());
    d.put("--max-steps", c.maxSteps());
    d.put("--num-envs", c.numEnvs());
    d.put("--num-workers", c.numWorkers());
    d.put("--batch-quorum", c.batchQuorum());
    d.put("--steps-per-lane", c.stepsPerLane());
    d.put("--hidden", sizes(c.policyHidden()));
    d.put("--activation", c.activation());
    d.put("--init-log-std", c.initLogStd());
    d.put("--value-hidden", sizes(c.valueHidden()));
    d.put("--value-lr", c.valueLearningRate());
    d.put("--value-epochs", c.valueEpochs());
    d.put("--value-minibatch", c.valueMinibatch());
    d.put("--normalize-obs", c.normalizeObservations());
    d.put("--lr", c.learningRate());
    d.put("--gamma", c.gamma());
    d.put("--lambda", c.lambda());
    d.put("--discount-states", c.discountStates());
    d.put("--normalize-advantages", c.normalizeAdvantages());
    d.put("--max-grad-norm", c.maxGradNorm());
    d.put("--anneal-lr", c.annealLearningRate());
    d.put("--epochs", s.epochs());
    d.put("--minibatches", s.minibatches());
    d.put("--clip", s.clip());
    d.put("--anneal-clip", s.annealClip());
    d.put("--target-kl", s.targetKl());
    d.put("--max-kl", s.maxKl());
    d.put("--cg-iters", s.cgIterations());
    d.put("--cg-damping", s.cgDamping());
    d.put("--ci-steps", s.newtonSteps());
    d.put("--entropy-coef", s.entropyCoef());
    d.put("--kl-coef", s.klCoef());
    d.put("--bound-coef", s.boundCoef());
    d.put("--eval-every", c.evalEvery());
    d.put("--eval-episodes", c.evalEpisodes());
    d.put("--on-non-finite", c.onNonFinite());
    Map<String, String> out = new LinkedHashMap<>();
    d.forEach((name, value) -> out.put(name, text(value)));
    return Map.copyOf(out);
  }

  /** 0.0 -> "0", 0.01 -> "0.01", 100000 -> "100000". */
  private static String text(Object value) {
    if (value instanceof Double d) {
      return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
    }
    return String.valueOf(value);
  }

  /** [64, 64] -> "64,64"; [] -> "none" (a linear model, as TrainPresets reads it). */
  private static String sizes(List<Integer> sizes) {
    return sizes.isEmpty() ? "none"
        : sizes.stream().map(String::valueOf).collect(Collectors.joining(","));
  }
}
