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
 * {@code dsogym train --collect-ahead true} on CartPole-v1 from a real Python worker: the
 * worker collects each batch under the previous θ while the learner updates, the surrogate's
 * ratios correct for it, and the run still solves CartPole within the budget.
 */
class CollectAheadTrainingTest {
  @TempDir
  Path dir;

  @Test
  void cartPoleFromPythonIsSolvedWhileCollectingAhead() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    int code = Main.run(new String[] {"train", "--env", "CartPole-v1", "--source", "python",
        "--seed", "1", "--collect-ahead", "true", "--out", dir.toString()}, out, out);
    String console = bytes.toString(StandardCharsets.UTF_8);
    assertEquals(0, code, console);
    assertTrue(console.contains("worker-side inference collecting ahead"), console);
    JsonObject summary = new Gson().fromJson(Files.readString(dir.resolve("summary.json")),
        JsonObject.class);
    assertTrue(summary.get("collect_ahead").getAsBoolean(), summary.toString());
    assertTrue(!summary.get("steps_to_threshold").isJsonNull()
        && summary.get("steps_to_threshold").getAsLong() <= 50_000, summary.toString());
  }
}
