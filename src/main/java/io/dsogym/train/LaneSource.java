package io.dsogym.train;

import io.dsogym.env.VectorEnv;

/**
 * Where the trainer gets env lanes: Java-native lanes, a local Python worker it starts, or
 * remote workers it waits for. Asked again when a worker is lost, so a run goes on.
 */
public interface LaneSource {
  /**
   * Opens {@code numEnvs} lanes in the SAME_STEP autoreset mode. Called from the trainer's
   * thread and its evaluation thread, possibly at once: implementations are thread-safe.
   *
   * @param purpose "train" or "eval", used to name workers
   */
  VectorEnv open(int numEnvs, String purpose) throws Exception;

  /**
   * The run is stopping: an {@link #open} waiting for a worker, now or later, gives up at once
   * with an {@link io.dsogym.env.EnvUnavailableException} (CANCELLED). Callable from any
   * thread (a shutdown hook). Lanes that need no waiting may ignore it.
   */
  default void stopWaiting(String reason) {}

  /** How a lost worker is replaced, for the console ("starting a new local worker"). */
  String replacementNote();
}
