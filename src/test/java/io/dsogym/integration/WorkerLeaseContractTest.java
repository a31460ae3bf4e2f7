package io.dsogym.integration;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.VectorEnv;
import io.dsogym.env.VectorEnvContractTest;
import java.io.IOException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.TestInstance;

/**
 * The {@link VectorEnvContractTest} over the hub's leases ({@code WorkerPool.lease}): one real
 * Python CartPole-v1 worker per mode, connected in the server's SAME_STEP and lent to every env
 * the contract makes in the mode under test. So each lease configures the worker into that
 * mode, and each close gives it back fresh for the next one: a worker that came back dirty, or
 * in the wrong mode, fails the contract.
 */
class WorkerLeaseContractTest {

  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  abstract static class Leased extends VectorEnvContractTest {
    private LiveServer live;

    abstract AutoresetMode mode();

    @BeforeAll
    void startServerAndWorker() throws IOException, InterruptedException {
      live = LiveServer.start();
      live.awaitConnected("CartPole-v1",
          live.launch("CartPole-v1", numEnvs(), null, getClass().getSimpleName()));
    }

    @AfterAll
    void stopEverything() throws InterruptedException {
      if (live != null) {
        live.close();
      }
    }

    @Override
    protected VectorEnv makeVectorEnv(int numEnvs) {
      VectorEnv lease = live.server().pool().lease("CartPole-v1", numEnvs, mode());
      assertNotNull(lease, "a lease of the connected CartPole-v1 worker");
      return lease;
    }

  }

  @Nested
  class NextStep extends Leased {
    @Override
    AutoresetMode mode() {
      return AutoresetMode.NEXT_STEP;
    }
  }

  @Nested
  class SameStep extends Leased {
    @Override
    AutoresetMode mode() {
      return AutoresetMode.SAME_STEP;
    }
  }

  @Nested
  class Disabled extends Leased {
    @Override
    AutoresetMode mode() {
      return AutoresetMode.DISABLED;
    }
  }
}
