package io.dsogym.wire;

import io.dsogym.env.EnvUnavailableException;
import io.dsogym.envs.EnvRegistry;
import io.dsogym.wire.v1.Error;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * The one place where exceptions become grpc {@link Status}es and wire {@link Error}s, and
 * wire errors become Java exceptions again.
 *
 * <ul>
 *   <li>{@link EnvRegistry.UnknownEnvException} (unknown env id) -> NOT_FOUND
 *   <li>{@link IllegalArgumentException} (bad input) -> INVALID_ARGUMENT
 *   <li>{@link IllegalStateException} (e.g. step before reset) -> FAILED_PRECONDITION
 *   <li>{@link UnsupportedOperationException} -> UNIMPLEMENTED
 *   <li>{@link RemoteEnvException} -> its own code, exception type and traceback, kept
 *   <li>{@link EnvUnavailableException} (lanes lost) -> the code its reason names
 *   <li>a grpc {@link StatusRuntimeException}/{@link StatusException} -> its status
 *   <li>anything else -> INTERNAL with the Java exception type and stack trace
 * </ul>
 */
public final class StatusMapping {
  private StatusMapping() {}

  /** The status code for an exception. */
  public static Status.Code codeOf(Throwable e) {
    if (e instanceof RemoteEnvException r) {
      return r.code();
    }
    if (e instanceof EnvUnavailableException u) {
      return Status.Code.valueOf(u.reason().name());
    }
    if (e instanceof StatusRuntimeException s) {
      return s.getStatus().getCode();
    }
    if (e instanceof StatusException s) {
      return s.getStatus().getCode();
    }
    if (e instanceof EnvRegistry.UnknownEnvException) {
      return Status.Code.NOT_FOUND;
    }
    if (e instanceof IllegalArgumentException) {
      return Status.Code.INVALID_ARGUMENT;
    }
    if (e instanceof IllegalStateException) {
      return Status.Code.FAILED_PRECONDITION;
    }
    if (e instanceof UnsupportedOperationException) {
      return Status.Code.UNIMPLEMENTED;
    }
    return Status.Code.INTERNAL;
  }

  /** A grpc status carrying the exception's code and message (for ending a stream). */
  public static Status toStatus(Throwable e) {
    if (e instanceof StatusRuntimeException s) {
      return s.getStatus();
    }
    if (e instanceof StatusException s) {
      return s.getStatus();
    }
    return Status.fromCode(codeOf(e)).withDescription(messageOf(e)).withCause(e);
  }

  /** The in-band error for an exception raised while serving one request. */
  public static Error toError(Throwable e) {
    if (e instanceof RemoteEnvException r) {
      return Error.newBuilder().setCode(r.code().value()).setMessage(r.remoteMessage())
          .setExceptionType(r.exceptionType()).setTraceback(r.traceback()).build();
    }
    Status.Code code = codeOf(e);
    Error.Builder b = Error.newBuilder().setCode(code.value()).setMessage(messageOf(e))
        .setExceptionType(e.getClass().getSimpleName());
    if (code == Status.Code.INTERNAL) {
      // An unexpected failure: the stack trace is what a bug report needs.
      StringWriter w = new StringWriter();
      e.printStackTrace(new PrintWriter(w));
      b.setTraceback(w.toString());
    }
    return b.build();
  }

  /** An in-band error with a code and a message. */
  public static Error error(Status.Code code, String message) {
    return Error.newBuilder().setCode(code.value()).setMessage(message).build();
  }

  /** The Java exception for an in-band error received from the other side. */
  public static RemoteEnvException toException(Error error) {
    return new RemoteEnvException(Status.fromCodeValue(error.getCode()).getCode(),
        error.getExceptionType(), error.getMessage(), error.getTraceback());
  }

  /** The same, with {@code context} (e.g. "worker w-1 step 17") prefixed to the message. */
  public static RemoteEnvException toException(Error error, String context) {
    return new RemoteEnvException(Status.fromCodeValue(error.getCode()).getCode(),
        error.getExceptionType(), context + ": " + error.getMessage(), error.getTraceback());
  }

  private static String messageOf(Throwable e) {
    if (e instanceof StatusRuntimeException s) {
      return String.valueOf(s.getStatus().getDescription());
    }
    String m = e.getMessage();
    return m == null || m.isEmpty() ? e.getClass().getName() : m;
  }
}
