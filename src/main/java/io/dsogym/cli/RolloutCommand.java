package io.dsogym.cli;

import io.dsogym.bench.PolicyDriver;
import io.dsogym.launch.EnvSource;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code rollout}: drives an env's lanes with a Java linear policy (random parameters) and
 * prints what it measured: the end-to-end check that a Python env reaches the Java side.
 */
final class RolloutCommand implements Main.Command {
  @Override
  public String summary() {
    return "rollout --env ID [--source java|python (default python)] [--num-envs N (16)] "
        + "[--steps S (20000)] [--seed S (0)] [--env-kwargs JSON]: drive an env with a Java "
        + "linear policy and print episodes, returns and env-steps/s";
  }

  @Override
  public int run(List<String> args, PrintStream out) throws Exception {
    Map<String, String> opts = Main.parseOptions(args,
        List.of("--env", "--source", "--num-envs", "--steps", "--seed", "--env-kwargs"), List.of());
    String envId = opts.get("--env");
    if (envId == null) {
      throw new Main.UsageException("--env: expected an env id, got none");
    }
    String source = opts.getOrDefault("--source", "python");
    int numEnvs = Main.intOption(opts, "--num-envs", 16);
    int steps = Main.intOption(opts, "--steps", 20_000);
    int seed = Main.intOption(opts, "--seed", 0);
    if (numEnvs < 1 || steps < 1) {
      throw new Main.UsageException("--num-envs and --steps: expected >= 1, got " + numEnvs
          + " and " + steps);
    }
    long t0 = System.nanoTime();
    try (EnvSource src = EnvSource.open(source, envId, numEnvs, opts.get("--env-kwargs"),
        Duration.ofSeconds(60))) {
      double setup = (System.nanoTime() - t0) / 1e9;
      out.printf(Locale.ROOT, "%s from %s: %d lanes, observation %s, action %s (ready in %.1f s)%n",
          envId, source, numEnvs, src.env.spec().observationSpace(),
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
