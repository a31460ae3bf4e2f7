package io.dsogym.train;

import io.dsogym.env.EnvUnavailableException;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
import io.dsogym.env.VectorEnvWrapper;
import java.util.concurrent.CountDownLatch;

/** Lanes whose worker "dies" after a number of vector steps; each step may wait for a gate. */
final class FailingLanes extends VectorEnvWrapper {
  private int stepsLeft;
  private final CountDownLatch gate;

  FailingLanes(VectorEnv inner, int steps) {
    this(inner, steps, new CountDownLatch(0));
  }

  FailingLanes(VectorEnv inner, int steps, CountDownLatch gate) {
    super(inner);
    this.stepsLeft = steps;
    this.gate = gate;
  }

  @Override
  public VectorStepResult step(Value actions) {
    try {
      gate.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EnvUnavailableException(EnvUnavailableException.Reason.CANCELLED,
          "interrupted (test)", e);
    }
    if (stepsLeft-- <= 0) {
      throw new EnvUnavailableException(EnvUnavailableException.Reason.UNAVAILABLE,
          "worker w-test disconnected (test)", null);
    }
    return inner.step(actions);
  }
}
