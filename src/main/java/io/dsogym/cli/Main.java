package io.dsogym.cli;

import io.dsogym.envs.EnvRegistry;
import io.dsogym.env.EnvSpec;
import io.dsogym.server.DsoGymServer;
import io.dsogym.server.ServerOptions;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code dsogym} command line: wiring only. Each subcommand is one {@link Command} in
 * {@link #COMMANDS}; add new ones there.
 */
public final class Main {
  /** One subcommand. */
  public interface Command {
    /** One line for {@code dsogym help}. */
    String summary();

    /** Runs with the arguments after the subcommand name; returns the exit code. */
    int run(List<String> args, PrintStream out) throws Exception;
  }

  /** The subcommands in help order.  */
  static final Map<String, Command> COMMANDS = new LinkedHashMap<>();

  static {
    COMMANDS.put("serve", new Serve());
    COMMANDS.put("envs", new Envs());
    COMMANDS.put("train", new TrainCommand());
    COMMANDS.put("eval", new EvalCommand());
    COMMANDS.put("rollout", new RolloutCommand());
    COMMANDS.put("bench", new BenchCommand());
    COMMANDS.put("help", new Help());
  }

  private Main() {}

  public static void main(String[] args) {
    int code;
    try {
      code = run(args, System.out, System.err);
    } catch (Exception e) {
      System.err.println("dsogym: " + e.getMessage());
      code = 1;
    }
    if (code != 0) {
      System.exit(code);
    }
  }

  /** Runs a command line; returns the exit code (2 for a usage error). */
  public static int run(String[] args, PrintStream out, PrintStream err) throws Exception {
    if (args.length == 0) {
      new Help().run(List.of(), err);
      return 2;
    }
    Command c = COMMANDS.get(args[0]);
    if (c == null) {
      if (args[0].equals("--help") || args[0].equals("-h")) {
        return new Help().run(List.of(), out);
      }
      err.println("dsogym: unknown command '" + args[0] + "'; expected one of "
          + COMMANDS.keySet());
      return 2;
    }
    try {
      return c.run(List.of(args).subList(1, args.length), out);
    } catch (UsageException e) {
      err.println("dsogym " + args[0] + ": " + e.getMessage());
      return 2;
    }
  }

  /** A command-line mistake: printed with exit code 2. */
  public static final class UsageException extends IllegalArgumentException {
    public UsageException(String message) {
      super(message);
    }
  }

  /**
   * Parses "--name value" options (also "--name=value") into a map; flags in {@code flags}
   * take no value.
   */
  public static Map<String, String> parseOptions(List<String> args, List<String> known,
      List<String> flags) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (!a.startsWith("--")) {
        throw new UsageException("unexpected argument '" + a + "'");
      }
      String name = a;
      String value = null;
      int eq = a.indexOf('=');
      if (eq > 0) {
        name = a.substring(0, eq);
        value = a.substring(eq + 1);
      }
      if (!known.contains(name) && !flags.contains(name)) {
        List<String> all = new ArrayList<>(known);
        all.addAll(flags);
        throw new UsageException("unknown option '" + name + "'; expected one of " + all);
      }
      if (flags.contains(name)) {
        out.put(name, "true");
        continue;
      }
      if (value == null) {
        if (i + 1 >= args.size()) {
          throw new UsageException(name + ": expected a value, got none");
        }
        value = args.get(++i);
      }
      out.put(name, value);
    }
    return out;
  }

  static int intOption(Map<String, String> opts, String name, int otherwise) {
    String v = opts.get(name);
    if (v == null) {
      return otherwise;
    }
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw new UsageException(name + ": expected an integer, got '" + v + "'");
    }
  }

  /** {@code serve [--port P] [--bind ADDR] [--auth-token T]}. */
  static final class Serve implements Command {
    @Override
    public String summary() {
      return "serve [--port P (default 50051, 0 = any free port)] [--bind ADDR (default "
          + "127.0.0.1)] [--auth-token T (or DSOGYM_AUTH_TOKEN; required beyond loopback)]";
    }

    @Override
    public int run(List<String> args, PrintStream out) throws Exception {
      Map<String, String> opts = parseOptions(args, List.of("--port", "--bind", "--auth-token"),
          List.of());
      int port = intOption(opts, "--port", 50051);
      String token = opts.getOrDefault("--auth-token", System.getenv("DSOGYM_AUTH_TOKEN"));
      DsoGymServer server;
      try {
        server = DsoGymServer.tcp(opts.getOrDefault("--bind", DsoGymServer.DEFAULT_BIND), port,
            ServerOptions.defaults().withAuthToken(token));
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      }
      server.start().addShutdownHook();
      out.println("dsogym server listening on " + server.address());
      out.flush();
      server.blockUntilShutdown();
      return 0;
    }
  }

  /** {@code envs}: the Java-native env ids with their spaces. */
  static final class Envs implements Command {
    @Override
    public String summary() {
      return "envs: list the Java-native envs with their spaces";
    }

    @Override
    public int run(List<String> args, PrintStream out) {
      if (!args.isEmpty()) {
        throw new UsageException("expected no arguments, got " + args);
      }
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

  static final class Help implements Command {
    @Override
    public String summary() {
      return "help: this text";
    }

    @Override
    public int run(List<String> args, PrintStream out) {
      out.println("usage: dsogym <command> [options]");
      COMMANDS.forEach((name, c) -> out.println("  " + name + "  " + c.summary()));
      return 0;
    }
  }
}
