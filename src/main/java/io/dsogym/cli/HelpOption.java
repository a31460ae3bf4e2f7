package io.dsogym.cli;

import picocli.CommandLine.Option;

/** {@code -h, --help}: mixed into every command (picocli prints the help and exits with 0). */
final class HelpOption {
  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
  boolean help;
}
