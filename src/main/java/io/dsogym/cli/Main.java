package io.dsogym.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code dsogym} command line: wiring only. Each subcommand is a picocli command of its
 * own class, registered in {@link #commandLine}; add new ones there. Exit codes: 0 done, 1 a
 * runtime error (its message on stderr), 2 a usage error (an unknown command or option, a
 * missing or invalid value: the message and, for a typo, picocli's suggestions).
 */
@Command(name = "dsogym", synopsisSubcommandLabel = "COMMAND",
    description = "Gym-compatible env bridge (gRPC) and a Dynamical System Optimization "
        + "learner.",
    footer = {"", "Run 'dsogym COMMAND --help' for a command's options and their defaults."})
public final class Main implements Callable<Integer> {
  @Mixin
  HelpOption help = new HelpOption();

  @Spec
  CommandSpec spec;

  private Main() {}

  /** No command given: the help, on stderr, as a usage error. */
  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return spec.exitCodeOnInvalidInput();
  }

  public static void main(String[] args) {
    int code = run(args, System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }

  /**
   * Runs a command line in this process, printing to {@code out} and {@code err}; returns the
   * exit code (0 done, 1 a runtime error, 2 a usage error).
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return commandLine(out, err).execute(args);
  }

  /** The command line with its subcommands in help order, writing to out and err. */
  static CommandLine commandLine(PrintStream out, PrintStream err) {
    CommandLine cl = new CommandLine(new Main());
    cl.addSubcommand(new ServeCommand(out));
    cl.addSubcommand(new EnvsCommand(out));
    cl.addSubcommand(new TrainCommand(out));
    cl.addSubcommand(new EvalCommand(out));
    cl.addSubcommand(new RolloutCommand(out));
    cl.addSubcommand(new BenchCommand(out));
    cl.addSubcommand(new SoakCommand(out));
    cl.addSubcommand(ExperimentCommand.create(out));
    cl.addSubcommand(new CommandLine.HelpCommand());
    // set after the subcommands are added: these apply to every one of them
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    cl.setOverwrittenOptionsAllowed(true);  // an option given twice: the last one wins
    cl.setExpandAtFiles(false);  // an argument starting with @ is a value, not a file to read
    cl.setParameterExceptionHandler(Main::usageError);
    cl.setExecutionExceptionHandler(Main::runtimeError);
    return cl;
  }

  /** A usage error: the message, then picocli's suggestions for a typo; exit code 2. */
  private static int usageError(ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    PrintWriter err = cmd.getErr();
    String name = cmd.getCommandSpec().qualifiedName();
    String message = e.getMessage();
    List<String> suggestions = List.of();
    if (e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
      suggestions = u.getSuggestions();
      String first = u.getUnmatched().get(0);
      if (u.isUnknownOption()) {
        // picocli's message lists the option's value too ("Unknown options: '--x', '5'")
        message = "unknown option '" + first.split("=", 2)[0] + "'";
      } else if (!cmd.getSubcommands().isEmpty()) {
        message = "unknown command '" + first + "'; expected one of "
            + cmd.getSubcommands().keySet();
      }
    }
    err.println(name + ": " + message);
    if (!suggestions.isEmpty()) {
      err.println("Did you mean: " + String.join(" or ", suggestions) + "?");
    } else if (!(e instanceof UsageError)) {
      err.println("See '" + name + " --help'.");
    }
    err.flush();
    return cmd.getCommandSpec().exitCodeOnInvalidInput();
  }

  /** A runtime error: its message (no stack trace), exit code 1. */
  private static int runtimeError(Exception e, CommandLine cmd, ParseResult parsed) {
    PrintWriter err = cmd.getErr();
    err.println("dsogym: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
    err.flush();
    return cmd.getCommandSpec().exitCodeOnExecutionException();
  }
}
