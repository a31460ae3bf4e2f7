package io.dsogym.wire;

import io.grpc.Status;

/**
 * A request to a remote worker that cannot complete because the worker disconnected, was
 * closed, or did not answer within the deadline. The worker's unfinished episodes are lost;
 * other workers are unaffected. The message names the worker and the command.
 */
public class WorkerUnavailableException extends RemoteEnvException {
  public WorkerUnavailableException(Status.Code code, String message, Throwable cause) {
    super(code, "", message, "", cause);
  }
}
