package io.dsogym.launch;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.Env;
import io.dsogym.envs.EnvRegistry;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.env.VectorEnv;
import io.dsogym.server.DsoGymServer;
import io.dsogym.server.ServerOptions;
import io.dsogym.train.LaneSource;
import io.dsogym.wire.Json;
import io.dsogym.env.EnvUnavailableException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where a command's env lanes come from: {@code java} makes Java-native envs in this process;
 * {@code python} starts a loopback server and local Python workers (Gymnasium, MuJoCo) and
 * uses them through the bridge. Closing it stops whatever it started. As the trainer's
 * {@link LaneSource}, it opens evaluation lanes and replaces lost workers from the same source.
 */
public final class EnvSource implements LaneSource, AutoCloseable {
  /** The first worker's lanes (the only worker's, unless opened with several). */
  public final VectorEnv env;
  /** Every worker's lanes, one vector per worker. */
  public final List<VectorEnv> envs;
  private final DsoGymServer server;
  private final WorkerLauncher launcher;
  private final String envId;
  private final String kwargsJson;
  private final Duration workerTimeout;
  private final List<VectorEnv> extra = new ArrayList<>();

  private EnvSource(List<? extends VectorEnv> envs, DsoGymServer server,
      WorkerLauncher launcher, String envId, String kwargsJson, Duration workerTimeout) {
    this.envs = List.copyOf(envs);
    this.env = this.envs.get(0);
    this.server = server;
    this.launcher = launcher;
    this.envId = envId;
    this.kwargsJson = kwargsJson;
    this.workerTimeout = workerTimeout;
  }

  /**
   * Opens another vector of {@code numEnvs} lanes from the same source (evaluation lanes, or a
   * replacement for a lost worker): Java-native lanes, or a new local worker on the same
   * server. Closed with this source. Thread-safe: one opening at a time, so each new local
   * worker is matched with the opening that started it.
   */
  public synchronized VectorEnv openLanes(int numEnvs, String name)
      throws IOException, InterruptedException {
    VectorEnv lanes;
    if (server == null) {
      lanes = javaLanes(envId, numEnvs, kwargsJson);
    } else if (launcher == null) {
      System.err.printf("dsogym: waiting for a remote worker: python -m dsogym.worker --server "
          + "%s --env %s --num-envs %d%n", server.address(), envId, numEnvs);
      lanes = server.pool().awaitWorker(envId, workerTimeout);
    } else {
      Process worker = launcher.start(server.address(), envId, numEnvs, kwargsJson, name);
      lanes = awaitWorkers(server, List.of(worker), envId, workerTimeout).get(0);
    }
    extra.add(lanes);
    return lanes;
  }

  /** More lanes for the trainer, its local workers named "local-PURPOSE". */
  @Override
  public VectorEnv open(int numEnvs, String purpose) throws IOException, InterruptedException {
    return openLanes(numEnvs, "local-" + purpose);
  }

  /** Not synchronized: an {@link #openLanes} in progress holds the lock while it waits. */
  @Override
  public void stopWaiting(String reason) {
    if (server != null) {
      server.pool().endWaits(reason);
    }
  }

  @Override
  public synchronized String replacementNote() {
    return server == null ? "reopening Java lanes" : launcher == null
        ? "waiting for a remote worker to connect" : "starting a new local Python worker";
  }

  private static VectorEnv javaLanes(String envId, int numEnvs, String kwargsJson) {
    Map<String, Object> kwargs = Json.parseObject(kwargsJson == null ? "{}" : kwargsJson,
        "--env-kwargs");
    EnvRegistry registry = EnvRegistry.defaults();
    List<Env> lanes = new ArrayList<>();
    for (int i = 0; i < numEnvs; i++) {
      lanes.add(registry.make(envId, kwargs));
    }
    return new SyncVectorEnv(lanes, AutoresetMode.SAME_STEP);
  }

  public static EnvSource open(String source, String envId, int numEnvs, String kwargsJson,
      Duration workerTimeout) throws IOException, InterruptedException {
    return open(source, envId, numEnvs, kwargsJson, workerTimeout, null);
  }

  /** @param workerCpus when not null, the CPUs local workers run on (the worker's --cpus) */
  public static EnvSource open(String source, String envId, int numEnvs, String kwargsJson,
      Duration workerTimeout, String workerCpus) throws IOException, InterruptedException {
    return open(source, envId, numEnvs, 1, kwargsJson, workerTimeout, workerCpus);
  }

  /**
   * {@code numWorkers} workers of {@code numEnvs / numWorkers} lanes each: Java-native lane
   * groups, or local Python worker processes started at once.
   */
  public static EnvSource open(String source, String envId, int numEnvs, int numWorkers,
      String kwargsJson, Duration workerTimeout, String workerCpus)
      throws IOException, InterruptedException {
    if (numWorkers < 1 || numEnvs % numWorkers != 0) {
      throw new IllegalArgumentException("--num-workers: expected a positive divisor of "
          + "--num-envs " + numEnvs + ", got " + numWorkers);
    }
    int lanesEach = numEnvs / numWorkers;
    if (source.equals("java")) {
      List<VectorEnv> groups = new ArrayList<>();
      for (int w = 0; w < numWorkers; w++) {
        groups.add(javaLanes(envId, lanesEach, kwargsJson));
      }
      return new EnvSource(groups, null, null, envId, kwargsJson, workerTimeout);
    }
    if (!source.equals("python")) {
      throw new IllegalArgumentException("--source: expected java or python, got '" + source + "'");
    }
    DsoGymServer server = DsoGymServer.tcp(DsoGymServer.DEFAULT_BIND, 0, ServerOptions.defaults());
    server.start();
    WorkerLauncher launcher = new WorkerLauncher(WorkerLauncher.defaultPython(), workerCpus);
    try {
      List<Process> workers = new ArrayList<>();
      for (int w = 0; w < numWorkers; w++) {
        workers.add(launcher.start(server.address(), envId, lanesEach, kwargsJson,
            "local-" + envId));
      }
      return new EnvSource(awaitWorkers(server, workers, envId, workerTimeout), server,
          launcher, envId, kwargsJson, workerTimeout);
    } catch (RuntimeException | IOException e) {
      launcher.close();
      server.stop();
      throw e;
    }
  }

  /**
   * Starts a server on {@code bind:port} and waits for a worker started elsewhere (this machine
   * or others) instead of launching local ones.
   */
  public static EnvSource openRemote(String envId, String bind, int port, ServerOptions options,
      Duration workerTimeout) throws IOException, InterruptedException {
    return openRemote(envId, bind, port, options, workerTimeout, 1, 0);
  }

  /**
   * Waits for {@code numWorkers} remote workers serving {@code envId}, whatever their lane
   * counts ({@code lanesEach}, when positive, is only what the console suggests).
   */
  public static EnvSource openRemote(String envId, String bind, int port, ServerOptions options,
      Duration workerTimeout, int numWorkers, int lanesEach)
      throws IOException, InterruptedException {
    DsoGymServer server = DsoGymServer.tcp(bind, port, options);
    server.start();
    System.err.printf("dsogym: listening on %s; start %s with: python -m dsogym.worker "
        + "--server %s --env %s --num-envs %s%s%n", server.address(),
        numWorkers == 1 ? "a worker" : numWorkers + " workers", server.address(), envId,
        lanesEach > 0 ? Integer.toString(lanesEach) : "N",
        options.tls() == null ? "" : " --tls-ca CA_FILE");
    try {
      return new EnvSource(server.pool().awaitWorkers(envId, numWorkers, workerTimeout), server,
          null, envId, null, workerTimeout);
    } catch (RuntimeException e) {
      server.stop();
      throw e;
    }
  }

  /** True when lanes come from workers started elsewhere. */
  public boolean remote() {
    return server != null && launcher == null;
  }

  /**
   * Waits for the started workers to connect, failing at once if one of their processes exits
   * first. The lanes come in the order the workers connected.
   */
  private static List<VectorEnv> awaitWorkers(DsoGymServer server, List<Process> workers,
      String envId, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<VectorEnv> connected = new ArrayList<>();
    while (connected.size() < workers.size()) {
      try {
        connected.add(server.pool().awaitWorker(envId, Duration.ofMillis(200)));
      } catch (EnvUnavailableException e) {
        if (e.reason() == EnvUnavailableException.Reason.CANCELLED) {
          connected.forEach(VectorEnv::close);
          throw e;  // interrupted (train stopped by a signal): stop waiting
        }
        for (Process worker : workers) {
          if (!worker.isAlive()) {
            connected.forEach(VectorEnv::close);
            throw new IllegalStateException("the Python worker for " + envId + " exited with "
                + "code " + worker.waitFor() + " before connecting (its error is printed above)");
          }
        }
        if (System.nanoTime() > deadline) {
          connected.forEach(VectorEnv::close);
          throw new IllegalStateException(connected.size() + " of " + workers.size()
              + " Python workers for " + envId + " connected within " + timeout.toSeconds()
              + " s");
        }
      }
    }
    return connected;
  }

  @Override
  public synchronized void close() throws InterruptedException {
    envs.forEach(VectorEnv::close);
    for (VectorEnv lanes : extra) {
      lanes.close();
    }
    if (launcher != null) {
      launcher.close();
    }
    if (server != null) {
      server.stop();
    }
  }
}
