package io.dsogym.env;

/**
 * The lanes of a {@link VectorEnv} can no longer be reached: the process hosting them (a
 * remote worker) disconnected, was closed, or did not answer within the deadline. Its
 * unfinished episodes are lost; other lanes are unaffected. The message names the lanes' host
 * and the command. Over the wire it becomes the status named by its {@link Reason}.
 */
public class EnvUnavailableException extends RuntimeException {
  /** Why the lanes are gone; each reason's name is the grpc status code it maps to. */
  public enum Reason {
    /** The host disconnected. */
    UNAVAILABLE,
    /** The host did not answer (or did not connect) within the deadline. */
    DEADLINE_EXCEEDED,
    /** The lanes were closed, or the wait for them was cancelled. */
    CANCELLED
  }

  private final Reason reason;

  public EnvUnavailableException(Reason reason, String message, Throwable cause) {
    super(reason + ": " + message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
