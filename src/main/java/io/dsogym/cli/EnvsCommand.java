package io.dsogym.cli;

import io.dsogym.env.EnvSpec;
import io.dsogym.envs.EnvRegistry;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code envs}: the Java-native env ids with their spaces. */
@Command(name = "envs", header = "List the Java-native envs with their spaces.",
    description = "The env ids that train, eval and rollout take with --source java, with "
        + "their observation and action spaces.")
final class EnvsCommand implements Callable<Integer> {
  @Mixin
  HelpOption help = new HelpOption();

  private final PrintStream out;

  EnvsCommand(PrintStream out) {
    this.out = out;
  }

  @Override
  public Integer call() {
    EnvRegistry registry = EnvRegistry.defaults();
    for (String id : registry.ids()) {
      EnvSpec s = registry.spec(id);
      out.println(id + "  observation " + s.observationSpace() + "  action "
          + s.actionSpace() + "  max_episode_steps "
          + (s.maxEpisodeSteps() == 0 ? "none" : s.maxEpisodeSteps()));
    }
    return 0;
  }
}
