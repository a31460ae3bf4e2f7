package io.dsogym.integration;

import io.dsogym.env.AutoresetMode;
import org.junit.jupiter.api.Test;

/**
 * The VectorEnv contract holds for a real Python worker hosting Gymnasium's Pendulum-v1 (a
 * float32 Box action, episodes that only end by truncation at 200 steps).
 */
class PythonWorkerPendulumContractTest extends PythonWorkerContract {
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
