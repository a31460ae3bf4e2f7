package io.dsogym.integration;

import io.dsogym.env.AutoresetMode;
import org.junit.jupiter.api.Nested;

/**
 * The VectorEnv contract holds for a real Python worker hosting Gymnasium's CartPole-v1 (3
 * lanes, the server's default SAME_STEP autoreset). CartPole's episodes end by termination
 * well before its 500-step limit under random actions.
 */
class PythonWorkerContractTest {
  abstract static class CartPoleSameStep extends PythonWorkerContract {
    @Override
    String envId() {
      return "CartPole-v1";
    }

    @Override
    AutoresetMode mode() {
      return AutoresetMode.SAME_STEP;
    }

  }

  @Nested
  class OverSharedMemory extends CartPoleSameStep {
    @Override
    String transport() {
      return "shm";
    }
  }

  @Nested
  class OverGrpc extends CartPoleSameStep {
    @Override
    String transport() {
      return "grpc";
    }
  }
}
