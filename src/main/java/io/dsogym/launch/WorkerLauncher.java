package io.dsogym.launch;

import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts local Python worker processes ({@code python -m dsogym.worker}) that connect back to
 * this server, so one command runs everything. Their output goes to this process's stderr.
 */
public final class WorkerLauncher implements AutoCloseable {
  private final String python;
  private final String cpus;
  private final List<Process> processes = new ArrayList<>();

  public WorkerLauncher(String python) {
    this(python, null);
  }

  /**
   * @param cpus when not null, each worker runs on these CPUs only (its {@code --cpus}, e.g.
   *     "1"): the bench keeps the Python side off the server's core this way
   */
  public WorkerLauncher(String python, String cpus) {
    this.python = python;
    this.cpus = cpus;
  }

  /**
   * The Python interpreter to use: the DSOGYM_PYTHON variable, else the project's
   * {@code .venv/bin/python} found from the jar's location, else {@code python3}.
   */
  public static String defaultPython() {
    String fromEnv = System.getenv("DSOGYM_PYTHON");
    if (fromEnv != null && !fromEnv.isBlank()) {
      return fromEnv;
    }
    try {
      Path jar = Path.of(WorkerLauncher.class.getProtectionDomain().getCodeSource().getLocation()
          .toURI());
      for (Path dir = jar.getParent(); dir != null; dir = dir.getParent()) {
        Path venv = dir.resolve(".venv/bin/python");
        if (Files.isExecutable(venv)) {
          return venv.toString();
        }
      }
    } catch (URISyntaxException | SecurityException e) {
      // fall through to the PATH
    }
    return "python3";
  }

  /** Starts one worker serving {@code numEnvs} lanes of {@code envId}. */
  public Process start(String serverAddress, String envId, int numEnvs, String envKwargsJson,
      String name) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(python, "-m", "dsogym.worker",
        "--server", serverAddress, "--env", envId, "--num-envs", Integer.toString(numEnvs)));
    if (envKwargsJson != null && !envKwargsJson.isBlank()) {
      cmd.addAll(List.of("--env-kwargs", envKwargsJson));
    }
    if (name != null) {
      cmd.addAll(List.of("--name", name));
    }
    if (cpus != null) {
      cmd.addAll(List.of("--cpus", cpus));
    }
    ProcessBuilder pb = new ProcessBuilder(cmd)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .redirectInput(new File("/dev/null"));
    Process p = pb.start();
    synchronized (processes) {
      processes.add(p);
    }
    return p;
  }

  /** Stops every worker started here: SIGTERM, then SIGKILL after two seconds. */
  @Override
  public void close() {
    List<Process> all;
    synchronized (processes) {
      all = new ArrayList<>(processes);
      processes.clear();
    }
    for (Process p : all) {
      p.destroy();
    }
    for (Process p : all) {
      try {
        if (!p.waitFor(2, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(2, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.destroyForcibly();
      }
    }
  }
}
