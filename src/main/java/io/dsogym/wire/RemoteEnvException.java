package io.dsogym.wire;

import io.grpc.Status;

/**
 * An error that came over the wire: an in-band {@code Error} reply from a worker or the server,
 * or the failure of the link to a worker (timeout, disconnect). It keeps the grpc status code,
 * the remote exception type (e.g. "ValueError" for an exception raised inside a Python env),
 * the remote message and the remote traceback.
 */
public class RemoteEnvException extends RuntimeException {
  private final Status.Code code;
  private final String exceptionType;
  private final String remoteMessage;
  private final String traceback;

  public RemoteEnvException(Status.Code code, String exceptionType, String remoteMessage,
      String traceback) {
    this(code, exceptionType, remoteMessage, traceback, null);
  }

  public RemoteEnvException(Status.Code code, String exceptionType, String remoteMessage,
      String traceback, Throwable cause) {
    super(describe(code, exceptionType, remoteMessage), cause);
    this.code = code;
    this.exceptionType = exceptionType == null ? "" : exceptionType;
    this.remoteMessage = remoteMessage == null ? "" : remoteMessage;
    this.traceback = traceback == null ? "" : traceback;
  }

  private static String describe(Status.Code code, String type, String message) {
    StringBuilder sb = new StringBuilder().append(code);
    if (type != null && !type.isEmpty()) {
      sb.append(" (").append(type).append(')');
    }
    return sb.append(": ").append(message).toString();
  }

  /** The grpc status code of the error. */
  public Status.Code code() {
    return code;
  }

  /** The remote exception's type name, or "" when the remote side gave none. */
  public String exceptionType() {
    return exceptionType;
  }

  /** The message as the remote side wrote it. */
  public String remoteMessage() {
    return remoteMessage;
  }

  /** The remote traceback, or "". */
  public String traceback() {
    return traceback;
  }
}
