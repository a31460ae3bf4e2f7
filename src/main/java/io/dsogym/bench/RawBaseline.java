package io.dsogym.bench;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The bench's baseline: one {@code python -m dsogym.bench_raw --serve} process stepping raw
 * gymnasium SyncVectorEnv lanes, kept alive for a whole bench row so its windows can be
 * interleaved with the bridge's seconds apart (a process start and a warm-up would otherwise
 * sit between the two figures of a ratio).
 */
public final class RawBaseline implements AutoCloseable {
  private final String what;
  private final Process process;
  private final BufferedReader replies;
  private final Writer requests;

  private RawBaseline(String what, Process process) {
    this.what = what;
    this.process = process;
    this.replies = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8));
    this.requests = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
  }

  /**
   * Starts the process and waits until its lanes are built and warmed up.
   *
   * @param cpus the CPUs to pin it to (the bench's --pin), or null
   */
  public static RawBaseline start(String python, String env, int lanes, String cpus)
      throws IOException {
    List<String> cmd = new ArrayList<>(List.of(python, "-m", "dsogym.bench_raw", "--serve",
        "--env", env, "--num-envs", Integer.toString(lanes)));
    if (cpus != null) {
      cmd.addAll(List.of("--cpus", cpus));
    }
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    RawBaseline raw = new RawBaseline("raw baseline " + env + " x" + lanes, p);
    try {
      JsonObject ready = raw.readReply();
      if (!ready.has("ready")) {
        throw new IllegalStateException(raw.what + ": expected {\"ready\": true} first, got "
            + ready);
      }
    } catch (IOException | RuntimeException e) {
      raw.close();
      throw e;
    }
    return raw;
  }

  /** Env-steps/s of one window of {@code seconds}. */
  public double stepsPerSecond(double seconds) throws IOException {
    requests.write(String.format(Locale.ROOT, "%.3f%n", seconds));
    requests.flush();
    JsonObject reply = readReply();
    if (reply.has("error") || !reply.has("steps_per_sec")) {
      throw new IllegalStateException(what + ": expected a measurement, got " + reply);
    }
    return reply.get("steps_per_sec").getAsDouble();
  }

  private JsonObject readReply() throws IOException {
    for (String line; (line = replies.readLine()) != null; ) {
      if (line.startsWith("{")) {
        try {
          return new Gson().fromJson(line, JsonObject.class);
        } catch (JsonParseException e) {
          throw new IllegalStateException(what + ": expected a JSON line, got " + line, e);
        }
      }
    }
    throw new IllegalStateException(what + ": the process ended (exit code "
        + exitCode() + ") before replying");
  }

  private String exitCode() {
    try {
      return process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)
          ? Integer.toString(process.exitValue()) : "none yet";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }

  /** Closes its stdin (the process then ends by itself), killing it if it has not in 5 s. */
  @Override
  public void close() {
    try {
      requests.close();
    } catch (IOException e) {
      // already gone
    }
    try {
      if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
