package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build compiles and runs every Java example in examples/java, as a user would (Java's
 * single-file launcher, on the project's classpath), so an example that no longer compiles
 * against the library, or fails, fails the build. DriveGymnasiumEnv starts a real Python worker;
 * TrainCartPole trains with the typed {@code TrainConfig.builder} and must reach CartPole's
 * threshold.
 */
class JavaExamplesTest {
  /** What each example is run with and what its output must hold; a new example adds a line. */
  private record Expected(List<String> args, String output) {}

  @TempDir
  static Path runs;

  private static Expected expected(String example) {
    return switch (example) {
      // the fast env; HalfCheetah is the default
      case "DriveGymnasiumEnv.java" -> new Expected(List.of("CartPole-v1"),
          "returns after 200 random steps");
      case "TrainCartPole.java" -> new Expected(List.of(runs.resolve("cartpole").toString()),
          "reached the threshold after");
      default -> throw new AssertionError("examples/java/" + example + " has no expected "
          + "output in JavaExamplesTest.expected");
    };
  }

  @Test
  void everyJavaExampleCompilesAndRuns() throws Exception {
    Path dir = Path.of("examples", "java");
    List<Path> examples;
    try (Stream<Path> files = Files.list(dir)) {
      examples = files.filter(p -> p.toString().endsWith(".java")).sorted().toList();
    }
    assertTrue(!examples.isEmpty(), "no example in " + dir.toAbsolutePath());
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    for (Path example : examples) {
      Expected want = expected(example.getFileName().toString());
      List<String> command = new java.util.ArrayList<>(List.of(java, "-cp",
          System.getProperty("java.class.path"), example.toString()));
      command.addAll(want.args());
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      boolean done = p.waitFor(180, TimeUnit.SECONDS);
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!done) {
        p.destroyForcibly();
      }
      assertTrue(done, example + " did not finish in 180 s:\n" + out);
      assertEquals(0, p.exitValue(), example + " failed:\n" + out);
      assertTrue(out.contains(want.output()), example + " printed:\n" + out);
    }
  }
}
