package io.dsogym.cli;

import io.dsogym.bench.PolicyDriver;
import io.dsogym.launch.EnvSource;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code rollout}: drives an env's lanes with a Java linear policy (random parameters) and
 * prints what it measured: the end-to-end check that a Python env reaches the Java side.
 */
@Command(name = "rollout", sortOptions = false, showDefaultValues = true,
    header = "Drive an env with a Java linear policy and print what it measured.",
    description = "Steps an env's lanes with a Java linear policy (random parameters) and "
        + "prints episodes, returns and env-steps/s: the end-to-end check that an env reaches "
        + "the Java side.")
final class RolloutCommand implements Callable<Integer> {
  @Option(names = "--env", paramLabel = "ID", required = true, description = "The env: a "
      + "Gymnasium id for --source python, a Java-native one (dsogym envs) for --source java.")
  String env;

  @Option(names = "--source", paramLabel = "java|python", defaultValue = "python",
      description = "Where the env runs: java (Java-native) or python (a local Python "
          + "worker).")
  String source;

  @Option(names = "--num-envs", paramLabel = "N", defaultValue = "16",
      description = "Lanes stepped together.")
  int numEnvs;

  @Option(names = "--steps", paramLabel = "S", defaultValue = "20000",
      description = "Env steps in all (over all lanes).")
  int steps;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
      description = "Seed of the policy's parameters and the resets.")
  int seed;

  @Option(names = "--env-kwargs", paramLabel = "JSON", description = "Keyword arguments of "
      + "the env (a JSON object).")
  String envKwargs;

  @Mixin
  HelpOption help = new HelpOption();

  @Spec
  CommandSpec spec;

  private final PrintStream out;

  RolloutCommand(PrintStream out) {
    this.out = out;
  }

  @Override
  public Integer call() throws Exception {
    if (numEnvs < 1 || steps < 1) {
      throw new UsageError(spec, "--num-envs and --steps: expected >= 1, got " + numEnvs
          + " and " + steps);
    }
    if (!List.of("java", "python").contains(source)) {
      throw new UsageError(spec, "--source: expected java or python, got '" + source + "'");
    }
    long t0 = System.nanoTime();
    try (EnvSource src = EnvSource.open(source, env, numEnvs, envKwargs,
        Duration.ofSeconds(60))) {
      double setup = (System.nanoTime() - t0) / 1e9;
      out.printf(Locale.ROOT, "%s from %s: %d lanes, observation %s, action %s (ready in %.1f s)%n",
          env, source, numEnvs, src.env.spec().observationSpace(),
          src.env.spec().actionSpace(), setup);
      PolicyDriver driver = new PolicyDriver(src.env, seed);
      long vectorSteps = (steps + numEnvs - 1) / numEnvs;
      long start = System.nanoTime();
      long chunk = Math.max(1, vectorSteps / 10);
      for (long done = 0; done < vectorSteps; done += chunk) {
        driver.run(Math.min(chunk, vectorSteps - done), null);
        double secs = (System.nanoTime() - start) / 1e9;
        out.printf(Locale.ROOT, "  steps %7d  episodes %5d  mean return %8.2f  %8.0f steps/s%n",
            driver.envSteps, driver.episodes, driver.meanReturn(), driver.envSteps / secs);
      }
      double secs = (System.nanoTime() - start) / 1e9;
      out.printf(Locale.ROOT, "done: %d env steps in %.2f s (%.0f steps/s), %d episodes, "
          + "return %.2f +- %.2f%n", driver.envSteps, secs, driver.envSteps / secs,
          driver.episodes, driver.meanReturn(), driver.stdReturn());
    }
    return 0;
  }
}
