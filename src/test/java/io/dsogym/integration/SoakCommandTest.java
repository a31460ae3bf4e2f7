package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import io.dsogym.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dsogym soak}, shrunk: 4 sessions and a real Python worker for a few seconds give
 * steps from both sides, no error, and every figure of the JSON. Never checked against a time.
 */
class SoakCommandTest {
  @TempDir
  Path dir;

  @Test
  void aShortSoakHasNoErrorsAndReportsEveryFigure() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    Path json = dir.resolve("soak.json");
    int code = Main.run(new String[] {"soak", "--sessions", "4", "--workers", "1",
        "--worker-lanes", "2", "--seconds", "3", "--out", json.toString()}, out, out);
    String console = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, console);

    JsonObject doc = new Gson().fromJson(Files.readString(json), JsonObject.class);
    assertEquals(0, doc.get("errors").getAsLong(), console);
    assertTrue(doc.get("session_steps").getAsLong() > 0, doc.toString());
    assertTrue(doc.get("worker_steps").getAsLong() > 0, doc.toString());
    assertEquals(doc.get("session_steps").getAsLong() + doc.get("worker_steps").getAsLong(),
        doc.get("steps").getAsLong());
    for (String key : new String[] {"p50_ms", "p99_ms", "rss_mb_start", "rss_mb_end",
        "threads"}) {
      double v = doc.get(key).getAsDouble();
      assertTrue(v > 0 && Double.isFinite(v), key + " = " + v);
    }
    assertTrue(doc.get("p99_ms").getAsDouble() >= doc.get("p50_ms").getAsDouble(),
        doc.toString());
    assertTrue(console.contains("\"errors\": 0"), console);
  }

  @Test
  void badOptionsAreUsageErrors() {
    for (String[] bad : new String[][] {{"--sessions", "-1"}, {"--seconds", "0"},
        {"--worker-lanes", "0"}}) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
      String[] args = {"soak", "--out", dir.resolve("soak.json").toString(), bad[0], bad[1]};
      assertEquals(2, Main.run(args, out, out), String.join(" ", args));
      assertTrue(bytes.toString(StandardCharsets.UTF_8).contains(bad[0]), bad[0]);
    }
  }
}
