package io.dsogym.cli;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.train.Checkpoint;
import io.dsogym.train.TrainConfig;
import io.dsogym.train.TrainPresets;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The picocli command line in process ({@link Main#run}): help for every command, usage errors
 * with suggestions and exit code 2, and every option the hand-written parser accepted.
 */
class CliHelpTest {
  /** Each command with options its help must list. */
  static Stream<Arguments> commands() {
    return Stream.of(
        Arguments.of("serve", List.of("--port", "--bind", "--auth-token-file", "--auth-token",
            "--tls-cert", "--tls-key", "--tls-client-ca", "--allow-plaintext",
            "Default: 50051")),
        Arguments.of("envs", List.of("--help")),
        Arguments.of("train", List.of("--env", "--source", "--algo", "--setting", "--lr",
            "--max-steps", "--out", "--resume", "--workers", "--worker-cpus",
            "the env's preset")),
        Arguments.of("eval", List.of("--policy", "--episodes", "--seed", "Default: 20")),
        Arguments.of("rollout", List.of("--env", "--num-envs", "--steps", "Default: 16")),
        Arguments.of("bench", List.of("--envs", "--lanes", "--modes", "--pin",
            "--latency-steps", "Default: bench-results/bench.json")),
        Arguments.of("soak", List.of("--sessions", "--workers", "--seconds", "--out",
            "Default: bench-results/soak.json")),
        Arguments.of("experiment", List.of("NAME", "one of: lmdp", "--seed", "--out",
            "Experiments:", "  lmdp ", "Default: experiment-results/NAME")));
  }

  /** What a run printed and returned. */
  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    return new Result(code, out.toString(StandardCharsets.UTF_8),
        err.toString(StandardCharsets.UTF_8));
  }

  @ParameterizedTest(name = "{0} --help")
  @MethodSource("commands")
  void everyCommandHasHelpListingEveryOptionWithItsDescription(String command,
      List<String> expected) {
    // picocli warns on System.err about a description it cannot format (a lone '%')
    PrintStream stderr = System.err;
    ByteArrayOutputStream warnings = new ByteArrayOutputStream();
    Result r;
    try {
      System.setErr(new PrintStream(warnings, true, StandardCharsets.UTF_8));
      r = run(command, "--help");
    } finally {
      System.setErr(stderr);
    }
    assertEquals("", warnings.toString(StandardCharsets.UTF_8));
    assertEquals(0, r.code, r.err);
    assertTrue(r.out.startsWith("Usage: dsogym " + command)
        || r.out.contains("\nUsage: dsogym " + command), r.out);
    for (String text : expected) {
      assertTrue(r.out.contains(text), text + " in:\n" + r.out);
    }
    // every option, with the first words of its description (help text is wrapped at 80)
    CommandLine cmd = Main.commandLine(System.out, System.err).getSubcommands().get(command);
    for (OptionSpec o : cmd.getCommandSpec().options()) {
      boolean flag = o.usageHelp() || o.arity().max() == 0;
      assertTrue(r.out.contains(o.longestName() + (flag ? "" : "=")),
          o.longestName() + " in:\n" + r.out);
      String[] words = o.description()[0].split(" ");
      String start = String.join(" ", List.of(words).subList(0, Math.min(2, words.length)));
      assertTrue(r.out.contains(start), "'" + start + "' of " + o.longestName() + " in:\n"
          + r.out);
    }
    assertEquals(0, run("help", command).code);
  }

  @Test
  void topLevelHelpListsEveryCommand() {
    for (String[] args : new String[][] {{"--help"}, {"-h"}, {"help"}}) {
      Result r = run(args);
      assertEquals(0, r.code, r.err);
      for (String c : List.of("serve", "envs", "train", "eval", "rollout", "bench", "soak",
          "experiment")) {
        assertTrue(r.out.contains("  " + c + " "), c + " in:\n" + r.out);
      }
    }
    Result none = run();
    assertEquals(2, none.code);
    assertTrue(none.err.contains("Usage: dsogym"), none.err);
  }

  @Test
  void trainHelpShowsTheGenericDefaultsOfTrainPresets() {
    String help = run("train", "--help").out;
    assertTrue(help.contains("Default: the env's preset, else "
        + TrainDefaults.GENERIC.get("--lr") + "."), help);
    assertTrue(help.contains("Default: " + TrainDefaults.GENERIC.get("--clip")), help);
    assertTrue(help.contains("Default: " + TrainDefaults.GENERIC.get("--setting")), help);
  }

  @Test
  void theShownDefaultsAreTrainPresetsOwn() {
    // given back as options, the shown defaults build the very config they were read from
    TrainConfig generic = TrainPresets.config(TrainDefaults.NO_PRESET_ENV, Map.of());
    assertEquals(generic, TrainPresets.config(TrainDefaults.NO_PRESET_ENV,
        TrainDefaults.GENERIC));
    CommandLine train = Main.commandLine(System.out, System.err).getSubcommands().get("train");
    for (String name : TrainDefaults.GENERIC.keySet()) {
      assertNotNull(train.getCommandSpec().findOption(name), name);
    }
  }

  @Test
  void aMistypedOptionIsAUsageErrorWithSuggestions() {
    Result r = run("train", "--env", "CartPole-v1", "--max-step", "5");
    assertEquals(2, r.code, r.err);
    assertTrue(r.err.contains("unknown option '--max-step'"), r.err);
    assertTrue(r.err.contains("Did you mean: --max-steps"), r.err);

    r = run("rollout", "--env", "CartPole-v1", "--sorce=java");
    assertEquals(2, r.code, r.err);
    assertTrue(r.err.contains("Did you mean: --source?"), r.err);
  }

  @Test
  void aMistypedCommandIsAUsageErrorWithSuggestions() {
    Result r = run("trian", "--env", "CartPole-v1");
    assertEquals(2, r.code, r.err);
    assertTrue(r.err.contains("unknown command 'trian'"), r.err);
    assertTrue(r.err.contains("Did you mean: train"), r.err);
  }

  @Test
  void anUnknownExperimentIsAUsageErrorListingTheExperiments() {
    Result r = run("experiment", "lmpd", "--seed", "1");
    assertEquals(2, r.code, r.err);
    assertTrue(r.err.contains("NAME: expected one of " + io.dsogym.experiment.Experiments.names()
        + ", got 'lmpd'"), r.err);
    assertEquals(2, run("experiment").code);  // no NAME
    assertEquals(2, run("experiment", "lmdp", "--seed", "x").code);
  }

  @Test
  void aBadSettingIsAUsageErrorNamingTheOption() {
    Result r = run("train", "--env", "CartPole-v1", "--source", "java", "--setting", "bogus");
    assertEquals(2, r.code, r.err);
    assertTrue(r.err.contains("--setting") && r.err.contains("bogus"), r.err);
    assertFalse(r.err.contains("\tat "), "no stack trace: " + r.err);
  }

  @Test
  void configValidationErrorsAreUsageErrorsWithTheirMessageLast() {
    Result r = run("train", "--env", "CartPole-v1", "--source", "java", "--gamma", "1.5");
    assertEquals(2, r.code, r.err);
    // dsogym.train (python-client) reports the last line: it must name the option
    List<String> lines = r.err.lines().toList();
    assertTrue(lines.get(lines.size() - 1).contains("--gamma")
        && lines.get(lines.size() - 1).contains("1.5"), r.err);
    assertEquals(2, run("train", "--source", "java").code);  // no --env
    assertEquals(2, run("train", "--env", "CartPole-v1", "--workers", "elsewhere").code);
    assertEquals(2, run("eval").code);  // no --policy
    assertEquals(2, run("serve", "--port", "x").code);
  }

  @Test
  void settingReachesTheConfig(@TempDir Path dir) throws Exception {
    Result r = run("train", "--env", "CartPole-v1", "--source", "java", "--setting",
        "finite-horizon", "--max-steps", "256", "--num-envs", "2", "--steps-per-lane", "64",
        "--eval-every", "256", "--eval-episodes", "1", "--out", dir.toString());
    assertEquals(0, r.code, r.out + r.err);
    TrainConfig c = Checkpoint.read(dir).config;
    assertEquals("finite-horizon", c.setting());
    assertEquals(1.0, c.gamma());  // the finite-horizon default
  }

  @Test
  void givenOptionsOverThePresetsTheLastOneWinning(@TempDir Path dir) throws Exception {
    Result r = run("train", "--env=CartPole-v1", "--source", "java", "--max-steps", "256",
        "--num-envs", "2", "--steps-per-lane", "64", "--eval-every", "256", "--eval-episodes",
        "1", "--lr", "0.5", "--lr=0.25", "--init-log-std", "-1", "--hidden", "",
        "--out", dir.toString());
    assertEquals(0, r.code, r.out + r.err);
    TrainConfig c = Checkpoint.read(dir).config;
    assertEquals(0.25, c.learningRate());
    assertEquals(-1.0, c.initLogStd());
    assertEquals(List.of(), c.policyHidden());
    // and the env's preset where no option was given: CartPole's differs from the generic
    TrainConfig preset = TrainPresets.config("CartPole-v1", Map.of());
    assertEquals(preset.valueLearningRate(), c.valueLearningRate());
    assertEquals(preset.gamma(), c.gamma());
  }

  /** Every option of the hand-written parser, with a value, per command. */
  static Stream<Arguments> formerOptions() {
    List<String> train = List.of("--env", "--source", "--algo", "--inference",
        "--collect-ahead", "--seed", "--max-steps", "--num-envs", "--steps-per-lane",
        "--hidden", "--value-hidden", "--activation", "--init-log-std", "--lr", "--value-lr",
        "--value-epochs", "--value-minibatch", "--gamma", "--lambda", "--discount-states",
        "--normalize-obs", "--normalize-advantages", "--max-grad-norm", "--anneal-lr",
        "--eval-every", "--eval-episodes", "--target-return", "--env-kwargs", "--epochs",
        "--minibatches", "--clip", "--anneal-clip", "--target-kl", "--max-kl", "--cg-iters",
        "--cg-damping", "--ci-steps", "--entropy-coef", "--kl-coef", "--kl-reference", "--out",
        "--resume", "--workers", "--port", "--bind", "--auth-token", "--worker-cpus",
        "--setting");
    return Stream.of(
        Arguments.of("serve", List.of("--port", "--bind", "--auth-token")),
        Arguments.of("train", train),
        Arguments.of("eval", List.of("--policy", "--env", "--source", "--episodes", "--seed",
            "--env-kwargs")),
        Arguments.of("rollout", List.of("--env", "--source", "--num-envs", "--steps", "--seed",
            "--env-kwargs")),
        Arguments.of("bench", List.of("--envs", "--lanes", "--seconds", "--out",
            "--latency-steps", "--repeats", "--modes", "--steps-per-lane", "--hidden",
            "--requests-per-collect", "--pin")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("formerOptions")
  void everyFormerOptionIsStillAccepted(String command, List<String> options) {
    List<String> args = new ArrayList<>(List.of(command));
    for (String name : options) {
      args.add(name);
      args.add(name.equals("--port") || name.equals("--episodes") || name.equals("--seed")
          || name.equals("--num-envs") || name.equals("--steps") || name.equals("--lanes")
          || name.equals("--seconds") || name.equals("--latency-steps")
          || name.equals("--repeats") || name.equals("--steps-per-lane")
          || name.equals("--requests-per-collect") ? "1" : "v");
    }
    CommandLine cl = Main.commandLine(System.out, System.err);
    assertDoesNotThrow(() -> cl.parseArgs(args.toArray(String[]::new)), args.toString());
  }
}
