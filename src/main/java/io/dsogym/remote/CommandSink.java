package io.dsogym.remote;

import io.dsogym.wire.v1.ServerCommand;

/** The server-to-worker side of a worker's stream, as {@link RemoteVectorEnv} uses it. */
public interface CommandSink {
  /** Sends one command; thread-safe. Fails (unchecked) when the stream is gone. */
  void send(ServerCommand command);

  /** Ends the stream normally; idempotent. */
  void complete();

  /** Ends the stream with UNAVAILABLE and this description (server shutdown); idempotent. */
  default void goAway(String description) {
    complete();
  }
}
