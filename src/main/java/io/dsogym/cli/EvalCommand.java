package io.dsogym.cli;

import io.dsogym.launch.EnvSource;
import io.dsogym.policy.ObservationNormalizer;
import io.dsogym.policy.Policies;
import io.dsogym.policy.Policy;
import io.dsogym.policy.PolicySpec;
import io.dsogym.train.Checkpoint;
import io.dsogym.train.Evaluator;
import io.dsogym.train.TrainConfig;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code eval}: runs a saved policy's deterministic action for K episodes and prints returns. */
@Command(name = "eval", sortOptions = false, showDefaultValues = true,
    header = "Evaluate a saved policy.",
    description = "Runs a saved policy's deterministic action (argmax or mean) for K "
        + "episodes; prints the mean return, its spread, min and max.")
final class EvalCommand implements Callable<Integer> {
  @Option(names = "--policy", paramLabel = "DIR", required = true, description = "A train "
      + "output directory (its checkpoint.json).")
  String policyDir;

  @Option(names = "--best", description = "Evaluate the run's best evaluated policy (DIR/"
      + Checkpoint.BEST_DIR + "), not its last.")
  boolean best;

  @Option(names = "--env", paramLabel = "ID", description = {"The env to evaluate on.",
      "  Default: the one trained on."})
  String env;

  @Option(names = "--source", paramLabel = "java|python", description = {"Where the env "
      + "runs: java (Java-native) or python (a local Python worker).",
      "  Default: the trained run's."})
  String source;

  @Option(names = "--episodes", paramLabel = "K", defaultValue = "20",
      description = "Episodes to run.")
  int episodes;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "12345",
      description = "Seed of the episodes' resets.")
  int seed;

  @Option(names = "--env-kwargs", paramLabel = "JSON", description = {"Keyword arguments "
      + "of the env (a JSON object).", "  Default: the trained run's."})
  String envKwargs;

  @Mixin
  HelpOption help = new HelpOption();

  @Spec
  CommandSpec spec;

  private final PrintStream out;

  EvalCommand(PrintStream out) {
    this.out = out;
  }

  @Override
  public Integer call() throws Exception {
    if (episodes < 1) {
      throw new UsageError(spec, "--episodes: expected >= 1, got " + episodes);
    }
    if (source != null && !List.of("java", "python").contains(source)) {
      throw new UsageError(spec, "--source: expected java or python, got '" + source + "'");
    }
    Path dir = best ? Path.of(policyDir).resolve(Checkpoint.BEST_DIR) : Path.of(policyDir);
    if (best && !java.nio.file.Files.isRegularFile(dir.resolve(Checkpoint.FILE))) {
      throw new UsageError(spec, "--best: expected " + dir.resolve(Checkpoint.FILE) + ", which a "
          + "run writes at its first evaluation; it is not there");
    }
    Checkpoint.State state = Checkpoint.read(dir);
    TrainConfig c = state.config;
    String envId = env != null ? env : c.envId();
    String src = source != null ? source : c.source();
    String kwargs = envKwargs != null ? envKwargs : c.envKwargsJson();
    try (EnvSource lanes = EnvSource.open(src, envId, Math.min(episodes, 32), kwargs,
        Duration.ofSeconds(120))) {
      Policy policy = Policies.forEnv(lanes.env.spec(), c.policyHidden(),
          PolicySpec.Activation.valueOf(c.activation().toUpperCase(Locale.ROOT)),
          c.initLogStd());
      if (policy.numParams() != state.theta.length) {
        throw new IllegalArgumentException("--env " + envId + ": the saved policy has "
            + state.theta.length + " parameters but this env needs " + policy.numParams()
            + " (it was trained on " + c.envId() + ")");
      }
      ObservationNormalizer normalizer = new ObservationNormalizer(policy.obsDim(),
          c.normalizeObservations(), 10.0);
      normalizer.set(state.obsMean, state.obsVar, state.obsCount);
      double[] returns = Evaluator.evaluate(lanes.env, policy, state.theta, normalizer,
          episodes, seed);
      out.printf(Locale.ROOT, "%s (%s, trained %,d steps on %s): %d episodes, return %.2f ± "
              + "%.2f (min %.2f, max %.2f)%n", envId, src, state.envSteps, c.envId(),
          episodes, Evaluator.mean(returns), Evaluator.std(returns),
          Arrays.stream(returns).min().orElse(Double.NaN),
          Arrays.stream(returns).max().orElse(Double.NaN));
    }
    return 0;
  }
}
