package io.dsogym.integration;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.VectorEnv;
import io.dsogym.env.VectorEnvContractTest;
import io.dsogym.remote.RemoteVectorEnv;
import io.dsogym.server.ServerOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@link VectorEnvContractTest} over a {@link RemoteVectorEnv} backed by a real Python
 * worker process hosting a real Gymnasium env, connected to the real server over TCP loopback.
 *
 * <p>One server per class. The contract closes every env it makes, and a worker exits when
 * its env is closed, so each {@link #makeVectorEnv} takes a fresh worker; to hide Python's
 * start-up, the next worker is launched as soon as one is taken.
 *
 * <p>Each concrete contract runs over both transports of resets and steps ({@link #transport}):
 * the stream ("grpc") and shared memory ("shm", capability shm_steps), and checks that the
 * commands took the one it names.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class PythonWorkerContract extends VectorEnvContractTest {
  private LiveServer live;
  private Process next;
  private int nextLanes;

  /** The Gymnasium env id the worker hosts. */
  abstract String envId();

  /** The autoreset mode the server asks of its workers. */
  abstract AutoresetMode mode();

  /** "shm": resets and steps through shared memory; "grpc": on the stream. */
  abstract String transport();

  private final List<RemoteVectorEnv> made = new ArrayList<>();
  private long sharedMemoryCommands;

  @BeforeAll
  void startServerAndFirstWorker() throws IOException {
    live = LiveServer.start(ServerOptions.defaults().withWorkerAutoresetMode(mode()));
    prelaunch(numEnvs());
  }

  @AfterAll
  void stopEverything() throws InterruptedException {
    if (live != null) {
      live.close();
    }
    if (transport().equals("shm")) {
      assertTrue(sharedMemoryCommands > 0, "commands answered through shared memory: none");
    }
  }

  @AfterEach
  void checkTheTransport() {
    for (RemoteVectorEnv env : made) {
      sharedMemoryCommands += env.sharedMemoryCommands();
      if (transport().equals("shm")) {
        // offered at the first reset or step, unless the test never sent one
        assertTrue(Set.of("accepted", "not offered yet").contains(env.sharedMemoryOutcome()),
            env.describe() + ": shared memory " + env.sharedMemoryOutcome());
      } else {
        assertEquals(0, env.sharedMemoryCommands(), env.describe() + " over shared memory");
      }
    }
    made.clear();
  }

  @Override
  protected VectorEnv makeVectorEnv(int numEnvs) {
    try {
      if (next == null || nextLanes != numEnvs) {
        prelaunch(numEnvs);
      }
      Process p = next;
      next = null;
      RemoteVectorEnv env = live.await(envId(), p);
      env.setSharedMemorySteps(transport().equals("shm"));
      made.add(env);
      prelaunch(numEnvs());
      return env;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void prelaunch(int lanes) throws IOException {
    next = live.launch(envId(), lanes, null, getClass().getSimpleName());
    nextLanes = lanes;
  }
}
