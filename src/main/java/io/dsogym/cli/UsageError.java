package io.dsogym.cli;

import java.util.function.Supplier;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * A mistake on the command line that a command finds after parsing, such as an option value
 * that the config's validation rejects: printed as its message alone, exit code 2.
 */
final class UsageError extends ParameterException {
  UsageError(CommandSpec spec, String message) {
    super(spec.commandLine(), message);
  }

  /**
   * Runs a step that validates options (building a config from them): its
   * IllegalArgumentException, whose message names the option, becomes a usage error.
   */
  static <T> T check(CommandSpec spec, Supplier<T> step) {
    try {
      return step.get();
    } catch (IllegalArgumentException e) {
      throw new UsageError(spec, e.getMessage());
    }
  }
}
