package io.dsogym.remote;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.Env;
import io.dsogym.envs.EnvRegistry;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.SyncVectorEnv;
import io.dsogym.env.VectorEnv;
import io.dsogym.env.VectorEnvContractTest;
import io.dsogym.server.DsoGymServer;
import io.dsogym.server.GrpcCleanupExtension;
import io.dsogym.server.ServerOptions;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The remote path passes the same contract as a local vector env: a Java worker serves a
 * native env through the real WorkerService (in-process transport), and the test drives the
 * {@link RemoteVectorEnv} the pool hands out.
 */
class RemoteVectorEnvContractTest {

  abstract static class Remote extends VectorEnvContractTest {
    @RegisterExtension
    final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

    private DsoGymServer server;
    private ManagedChannel channel;

    abstract String envId();

    abstract AutoresetMode mode();

    @BeforeEach
    void startServer() throws Exception {
      String name = InProcessServerBuilder.generateName();
      server = grpc.register(new DsoGymServer(InProcessServerBuilder.forName(name),
          ServerOptions.defaults().withWorkerAutoresetMode(mode())).start());
      channel = grpc.register(InProcessChannelBuilder.forName(name).build());
    }

    @Override
    protected VectorEnv makeVectorEnv(int numEnvs) {
      EnvRegistry registry = EnvRegistry.defaults();
      EnvSpec spec = registry.spec(envId());
      new FakeWorker("java-worker", spec, numEnvs, mode -> {
        List<Env> lanes = new ArrayList<>();
        for (int i = 0; i < numEnvs; i++) {
          lanes.add(registry.make(envId(), Map.of()));
        }
        return new SyncVectorEnv(lanes, mode);
      }).connect(channel);
      return server.pool().awaitWorker(envId(), Duration.ofSeconds(10));
    }
  }

  @Nested
  class PendulumSameStep extends Remote {
    @Override
    String envId() {
      return "Pendulum-v1";
    }

    @Override
    AutoresetMode mode() {
      return AutoresetMode.SAME_STEP;
    }

    /** The worker's Pendulum clips, as Gymnasium's does; the server passes the values on. */
    @Override
    protected boolean clipsActions() {
      return true;
    }

    @Test
    void outOfBoundsActionsAreClippedByTheWorkersEnv() {
      outOfBoundsBoxActionsActAsClippedOnesOrAreRefused();
    }
  }

  abstract static class CartPole extends Remote {
    @Override
    String envId() {
      return "CartPole-v1";
    }

  }

  @Nested
  class CartPoleNextStep extends CartPole {
    @Override
    AutoresetMode mode() {
      return AutoresetMode.NEXT_STEP;
    }
  }

  @Nested
  class CartPoleDisabled extends CartPole {
    @Override
    AutoresetMode mode() {
      return AutoresetMode.DISABLED;
    }
  }
}
