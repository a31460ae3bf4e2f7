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
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** {@code eval}: runs a saved policy's deterministic action for K episodes and prints returns. */
final class EvalCommand implements Main.Command {
  @Override
  public String summary() {
    return "eval --policy DIR [--env ID (the trained one)] [--source java|python (the trained "
        + "one)] [--episodes K (20)] [--seed S (12345)]: evaluate a saved policy";
  }

  @Override
  public int run(List<String> args, PrintStream out) throws Exception {
    Map<String, String> opts = Main.parseOptions(args,
        List.of("--policy", "--env", "--source", "--episodes", "--seed", "--env-kwargs"),
        List.of());
    String dir = opts.get("--policy");
    if (dir == null) {
      throw new Main.UsageException("--policy: expected a training output directory, got none");
    }
    Checkpoint.State state = Checkpoint.read(Path.of(dir));
    TrainConfig c = state.config;
    String envId = opts.getOrDefault("--env", c.envId());
    String source = opts.getOrDefault("--source", c.source());
    int episodes = Main.intOption(opts, "--episodes", 20);
    int seed = Main.intOption(opts, "--seed", 12345);
    try (EnvSource src = EnvSource.open(source, envId, Math.min(episodes, 32),
        opts.getOrDefault("--env-kwargs", c.envKwargsJson()), Duration.ofSeconds(120))) {
      Policy policy = Policies.forEnv(src.env.spec(), c.policyHidden(),
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
      double[] returns = Evaluator.evaluate(src.env, policy, state.theta, normalizer, episodes,
          seed);
      out.printf(Locale.ROOT, "%s (%s, trained %,d steps on %s): %d episodes, return %.2f ± "
              + "%.2f (min %.2f, max %.2f)%n", envId, source, state.envSteps, c.envId(),
          episodes, Evaluator.mean(returns), Evaluator.std(returns),
          java.util.Arrays.stream(returns).min().orElse(Double.NaN),
          java.util.Arrays.stream(returns).max().orElse(Double.NaN));
    }
    return 0;
  }
}
