package io.dsogym.integration;

import io.dsogym.env.AutoresetMode;
import org.junit.jupiter.api.Nested;

/**
 * The VectorEnv contract holds for a real Python CartPole-v1 worker in the other two autoreset
 * modes the server can ask for (SAME_STEP is {@link PythonWorkerContractTest}): NEXT_STEP
 * (Gymnasium's default) and DISABLED (the caller resets ended lanes with a mask).
 */
class PythonWorkerAutoresetModesContractTest {

  abstract static class CartPole extends PythonWorkerContract {
    @Override
    String envId() {
      return "CartPole-v1";
    }

  }

  abstract static class NextStep extends CartPole {
    @Override
    AutoresetMode mode() {
      return AutoresetMode.NEXT_STEP;
    }
  }

  abstract static class Disabled extends CartPole {
    @Override
    AutoresetMode mode() {
      return AutoresetMode.DISABLED;
    }
  }

  @Nested
  class NextStepOverSharedMemory extends NextStep {
    @Override
    String transport() {
      return "shm";
    }
  }

  @Nested
  class NextStepOverGrpc extends NextStep {
    @Override
    String transport() {
      return "grpc";
    }
  }

  @Nested
  class DisabledOverSharedMemory extends Disabled {
    @Override
    String transport() {
      return "shm";
    }
  }

  @Nested
  class DisabledOverGrpc extends Disabled {
    @Override
    String transport() {
      return "grpc";
    }
  }
}
