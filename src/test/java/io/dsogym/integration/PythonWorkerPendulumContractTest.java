package io.dsogym.integration;

import io.dsogym.env.AutoresetMode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Nested;

/**
 * The VectorEnv contract holds for a real Python worker hosting Gymnasium's Pendulum-v1 (a
 * float32 Box action, episodes that only end by truncation at 200 steps).
 */
class PythonWorkerPendulumContractTest {
  abstract static class Pendulum extends PythonWorkerContract {
    @Override
    String envId() {
      return "Pendulum-v1";
    }

    @Override
    AutoresetMode mode() {
      return AutoresetMode.SAME_STEP;
    }

    /** Gymnasium's Pendulum clips the torque; the worker's lanes do as it does. */
    @Override
    protected boolean clipsActions() {
      return true;
    }

    @Test
    void outOfBoundsActionsAreClippedAsGymnasiumClipsThem() {
      outOfBoundsBoxActionsActAsClippedOnesOrAreRefused();
    }
  }

  @Nested
  class OverSharedMemory extends Pendulum {
    @Override
    String transport() {
      return "shm";
    }
  }

  @Nested
  class OverGrpc extends Pendulum {
    @Override
    String transport() {
      return "grpc";
    }
  }
}
