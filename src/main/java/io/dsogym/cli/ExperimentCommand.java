package io.dsogym.cli;

import io.dsogym.experiment.Experiment;
import io.dsogym.experiment.Experiments;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code experiment NAME}: runs one experiment of {@link Experiments} (each is a class of
 * {@code io.dsogym.experiment}; the help lists them from there).
 */
@Command(name = "experiment", sortOptions = false, showDefaultValues = true,
    header = "Run one of the experiments and write its results.",
    description = {"Runs the experiment NAME with every sampler seeded from --seed, and writes "
        + "DIR/result.json and its figures (docs/experiments.md)."})
final class ExperimentCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "NAME", completionCandidates = Names.class,
      description = "The experiment, one of: ${COMPLETION-CANDIDATES}.")
  String name;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
      description = "Seed of every sampler in the experiment.")
  long seed;

  @Option(names = "--out", paramLabel = "DIR", description = {"The directory for result.json "
      + "and the figures.", "  Default: experiment-results/NAME."})
  Path out;

  @Mixin
  HelpOption help = new HelpOption();

  @Spec
  CommandSpec spec;

  private final PrintStream console;

  private ExperimentCommand(PrintStream console) {
    this.console = console;
  }

  /** The command with a footer listing every experiment and what it does. */
  static CommandLine create(PrintStream console) {
    CommandLine cl = new CommandLine(new ExperimentCommand(console));
    List<String> footer = new ArrayList<>(List.of("", "Experiments:"));
    for (Experiment e : Experiments.all()) {
      // picocli does not wrap a footer: wrap the summary at 80 columns, indented past the name
      StringBuilder line = new StringBuilder(String.format("  %-10s", e.name()));
      for (String word : e.summary().split(" ")) {
        if (line.length() + 1 + word.length() > 80) {
          footer.add(line.toString());
          line = new StringBuilder(" ".repeat(12));
        }
        line.append(' ').append(word);
      }
      footer.add(line.toString());
    }
    cl.getCommandSpec().usageMessage().footer(footer.toArray(String[]::new));
    return cl;
  }

  @Override
  public Integer call() throws Exception {
    Experiment experiment = UsageError.check(spec, () -> Experiments.named(name));
    experiment.run(seed, out != null ? out : Path.of("experiment-results", name), console);
    return 0;
  }

  /** The experiment names, for the help of NAME. */
  static final class Names implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Experiments.names().iterator();
    }
  }
}
