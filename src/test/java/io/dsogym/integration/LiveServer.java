package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.fail;

import io.dsogym.launch.WorkerLauncher;
import io.dsogym.remote.RemoteVectorEnv;
import io.dsogym.server.DsoGymServer;
import io.dsogym.server.ServerOptions;
import io.dsogym.env.EnvUnavailableException;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The real thing for integration tests: a {@link DsoGymServer} on TCP loopback (a free port)
 * and real {@code python -m dsogym.worker} processes started through {@link WorkerLauncher}.
 * {@link #close} kills every worker started here and stops the server; call it from
 * {@code @AfterEach}/{@code @AfterAll}.
 *
 * <p>A missing venv or Python package fails the test (never skips it) with a message saying to
 * run {@code bash scripts/setup.sh}.
 */
final class LiveServer implements AutoCloseable {
  /** How long a launched worker may take to start Python, make its env and connect. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);

  private static final Map<String, String> checkedModules = new ConcurrentHashMap<>();

  private final DsoGymServer server;
  private final WorkerLauncher launcher;

  private LiveServer(DsoGymServer server, WorkerLauncher launcher) {
    this.server = server;
    this.launcher = launcher;
  }

  /** Checks the Python side (importing {@code modules}), then starts a server. */
  static LiveServer start(ServerOptions options, String... modules) throws IOException {
    String python = requirePython(modules);
    DsoGymServer server = DsoGymServer.tcp("127.0.0.1", 0, options).start();
    return new LiveServer(server, new WorkerLauncher(python));
  }

  static LiveServer start(String... modules) throws IOException {
    return start(ServerOptions.defaults(), modules);
  }

  DsoGymServer server() {
    return server;
  }

  String address() {
    return server.address();
  }

  /** Starts a worker process serving {@code numEnvs} lanes of {@code envId}. */
  Process launch(String envId, int numEnvs, String envKwargsJson, String name)
      throws IOException {
    return launcher.start(server.address(), envId, numEnvs, envKwargsJson, name);
  }

  /**
   * Takes a worker for {@code envId} from the pool, failing at once (not after the timeout)
   * when {@code process} exits before connecting.
   */
  RemoteVectorEnv await(String envId, Process process) {
    // "module:EnvId" (gymnasium's convention) imports module; the worker declares EnvId.
    envId = envId.substring(envId.lastIndexOf(':') + 1);
    long deadline = System.nanoTime() + CONNECT_TIMEOUT.toNanos();
    while (true) {
      try {
        return server.pool().awaitWorker(envId, Duration.ofMillis(200));
      } catch (EnvUnavailableException e) {
        if (process != null && !process.isAlive()) {
          fail("the worker for " + envId + " exited with code " + process.exitValue()
              + " before connecting (its log is on stderr above)");
        }
        if (System.nanoTime() > deadline) {
          fail("no worker for " + envId + " connected to " + address() + " within "
              + CONNECT_TIMEOUT.toSeconds() + " s: " + e.getMessage());
        }
      }
    }
  }

  /**
   * Waits until a worker serving {@code envId} is connected, leaving it in the pool (idle);
   * fails at once when {@code process} exits first.
   */
  void awaitConnected(String envId, Process process) throws InterruptedException {
    long deadline = System.nanoTime() + CONNECT_TIMEOUT.toNanos();
    while (server.pool().workers().stream().noneMatch(w -> w.spec().id().equals(envId))) {
      if (!process.isAlive()) {
        fail("the worker for " + envId + " exited with code " + process.exitValue()
            + " before connecting (its log is on stderr above)");
      }
      if (System.nanoTime() > deadline) {
        fail("no worker for " + envId + " connected to " + address() + " within "
            + CONNECT_TIMEOUT.toSeconds() + " s");
      }
      Thread.sleep(50);
    }
  }

  /** Launches a worker and takes it from the pool. */
  RemoteVectorEnv launchAndAwait(String envId, int numEnvs, String envKwargsJson, String name)
      throws IOException {
    return await(envId, launch(envId, numEnvs, envKwargsJson, name));
  }

  /** Kills every worker started here (SIGTERM, then SIGKILL) and stops the server. */
  @Override
  public void close() throws InterruptedException {
    try {
      launcher.close();
    } finally {
      server.stop();
    }
  }

  // ---------------------------------------------------------------------------------------

  /**
   * The venv's Python, after checking that it imports the worker, Gymnasium and
   * {@code modules}; fails the calling test otherwise.
   */
  static String requirePython(String... modules) {
    String python = WorkerLauncher.defaultPython();
    String hint = "; run `bash scripts/setup.sh` at the repository root to create .venv with "
        + "the dsogym Python client, Gymnasium and MuJoCo";
    if (System.getenv("DSOGYM_PYTHON") == null && !python.contains(".venv")) {
      fail("the project's Python venv (.venv/bin/python) was not found (falling back to '"
          + python + "' is not enough for integration tests)" + hint);
    }
    StringBuilder imports = new StringBuilder("import dsogym.worker, gymnasium");
    for (String m : modules) {
      imports.append(", ").append(m);
    }
    String key = python + "|" + imports;
    if (checkedModules.containsKey(key)) {
      return python;
    }
    String problem;
    try {
      Path log = Files.createTempFile("dsogym-python-check", ".log");
      try {
        Process p = new ProcessBuilder(python, "-c", imports.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .redirectInput(new File("/dev/null"))
            .start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          problem = "timed out";
        } else if (p.exitValue() != 0) {
          String out = Files.readString(log, StandardCharsets.UTF_8).strip();
          problem = "exit code " + p.exitValue() + ": " + out.substring(
              Math.max(0, out.length() - 600));
        } else {
          problem = null;
        }
      } finally {
        Files.deleteIfExists(log);
      }
    } catch (IOException e) {
      problem = e.toString();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      problem = "interrupted";
    }
    if (problem != null) {
      fail("'" + python + " -c \"" + imports + "\"' failed (" + problem + ")" + hint);
    }
    checkedModules.put(key, python);
    return python;
  }
}
