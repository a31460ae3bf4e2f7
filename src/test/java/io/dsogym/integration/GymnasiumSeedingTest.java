package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dsogym.env.Env;
import io.dsogym.env.Tensor;
import io.dsogym.envs.classic.CartPole;
import io.dsogym.envs.control.Pendulum;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The Java-native CartPole-v1 and Pendulum-v1 start where Gymnasium's do: for each seed the
 * venv's real Gymnasium and numpy reset {@code gym.make(id)} with {@code reset(seed=s)} and
 * then {@code reset()} (the stream continues), and the Java env must give the same float32
 * observations and the same float64 state, bit for bit.
 */
class GymnasiumSeedingTest {

  /** Reads "env_id seed options_json" lines; prints, per line, hex bits of obs and state. */
  private static final String SCRIPT = """
      import sys, json
      import numpy as np, gymnasium as gym
      envs = {}
      for line in sys.stdin:
          env_id, seed, options = line.rstrip("\\n").split(" ", 2)
          env = envs.setdefault(env_id, gym.make(env_id))
          options = json.loads(options)
          parts = []
          for s in (int(seed), None):
              obs, _ = env.reset(seed=s, options=options)
              parts.append(" ".join("%08x" % b for b in np.asarray(obs, np.float32).view(np.uint32)))
              parts.append(" ".join(float(v).hex() for v in env.unwrapped.state))
          print(" | ".join(parts), flush=True)
      """;

  private record Case(String envId, Supplier<Env> env, long seed, Map<String, Object> options,
      String optionsJson) {
    String line() {
      return envId + " " + Long.toUnsignedString(seed) + " " + optionsJson;
    }
  }

  /** 0..999, the 32-bit boundary, 2^63 - 1, and 2^64 - 1 (the long -1, read unsigned). */
  private static List<Long> seeds() {
    List<Long> seeds = new ArrayList<>();
    for (long s = 0; s < 1000; s++) {
      seeds.add(s);
    }
    seeds.addAll(List.of((1L << 32) - 1, 1L << 32, (1L << 32) + 5, Long.MAX_VALUE, -1L));
    return seeds;
  }

  @Test
  void resetsMatchGymnasiumBitForBitOnManySeeds() throws Exception {
    List<Case> cases = new ArrayList<>();
    for (long seed : seeds()) {
      cases.add(new Case(CartPole.ID, CartPole::new, seed, Map.of(), "null"));
      cases.add(new Case(Pendulum.ID, Pendulum::new, seed, Map.of(), "null"));
    }
    // Gymnasium's reset options change the bounds of the same draws.
    cases.add(new Case(CartPole.ID, CartPole::new, 7, Map.of("low", -0.2, "high", 0.1),
        "{\"low\": -0.2, \"high\": 0.1}"));
    cases.add(new Case(Pendulum.ID, Pendulum::new, 7, Map.of("x_init", 1.0, "y_init", 0.5),
        "{\"x_init\": 1.0, \"y_init\": 0.5}"));
    cases.add(new Case(Pendulum.ID, Pendulum::new, 8, Map.of("x_init", 2), "{\"x_init\": 2}"));
    cases.add(new Case(Pendulum.ID, Pendulum::new, 9, Map.of("x_init", 0.5, "y_init", 12.0),
        "{\"x_init\": 0.5, \"y_init\": 12.0}"));
    cases.add(new Case(CartPole.ID, CartPole::new, 10, Map.of("low", -3, "high", 3),
        "{\"low\": -3, \"high\": 3}"));

    List<String> expected = runGymnasium(cases);
    assertEquals(cases.size(), expected.size(), "one line per case from Python");
    List<String> mismatches = new ArrayList<>();
    for (int i = 0; i < cases.size(); i++) {
      String actual = javaLine(cases.get(i));
      if (!actual.equals(expected.get(i))) {
        mismatches.add(cases.get(i).line() + "\n  gymnasium: " + expected.get(i)
            + "\n  java:      " + actual);
      }
    }
    assertTrue(mismatches.isEmpty(), mismatches.size() + " of " + cases.size()
        + " resets differ from Gymnasium's, e.g.\n"
        + String.join("\n", mismatches.subList(0, Math.min(3, mismatches.size()))));
  }

  /** The Java env's reset(seed) then reset(null), formatted as the script formats Gymnasium's. */
  private static String javaLine(Case c) {
    Env env = c.env().get();
    List<String> parts = new ArrayList<>();
    for (Long seed : new Long[] {c.seed(), null}) {
      Tensor obs = (Tensor) env.reset(seed, c.options()).observation();
      List<String> bits = new ArrayList<>();
      for (int j = 0; j < obs.size(); j++) {
        bits.add(String.format("%08x", Float.floatToRawIntBits((float) obs.getDouble(j))));
      }
      parts.add(String.join(" ", bits));
      double[] state = env instanceof CartPole cp ? cp.state() : ((Pendulum) env).state();
      List<String> hex = new ArrayList<>();
      for (double v : state) {
        hex.add(pythonHex(v));
      }
      parts.add(String.join(" ", hex));
    }
    return String.join(" | ", parts);
  }

  /** Python's float.hex(): "0x1.<13 hex digits>p<exp>", "0x0.0p+0" for zero. */
  private static String pythonHex(double v) {
    String sign = Double.doubleToRawLongBits(v) < 0 ? "-" : "";
    double a = Math.abs(v);
    if (a == 0) {
      return sign + "0x0.0p+0";
    }
    long bits = Double.doubleToRawLongBits(a);
    int exp = (int) (bits >>> 52);
    long mantissa = bits & ((1L << 52) - 1);
    String lead = exp == 0 ? "0" : "1";
    int e = exp == 0 ? -1022 : exp - 1023;
    return sign + "0x" + lead + "." + String.format("%013x", mantissa) + "p"
        + (e >= 0 ? "+" : "") + e;
  }

  private static List<String> runGymnasium(List<Case> cases) throws IOException,
      InterruptedException {
    String python = LiveServer.requirePython("numpy");
    Path input = Files.createTempFile("dsogym-seeding", ".txt");
    Path output = Files.createTempFile("dsogym-seeding", ".out");
    try {
      Files.write(input, cases.stream().map(Case::line).toList(), StandardCharsets.UTF_8);
      Process p = new ProcessBuilder(python, "-c", SCRIPT)
          .redirectInput(input.toFile())
          .redirectOutput(output.toFile())
          .redirectError(ProcessBuilder.Redirect.INHERIT)
          .start();
      if (!p.waitFor(300, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        fail("the Gymnasium reference script did not finish within 300 s");
      }
      assertEquals(0, p.exitValue(), "the Gymnasium reference script failed (stderr above)");
      return Files.readAllLines(output, StandardCharsets.UTF_8);
    } finally {
      Files.deleteIfExists(input);
      Files.deleteIfExists(output);
    }
  }
}
