package io.dsogym.server;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server-wide counts that {@link ServerLimits} bound: open sessions and lanes held by
 * sessions and workers together. A grant is all or nothing: one that would pass a limit throws
 * RESOURCE_EXHAUSTED naming the limit, the value asked for and what is in use, and changes no
 * count. Every grant is released exactly once through the {@link Grant} it returned.
 */
final class ServerResources {
  private final ServerLimits limits;
  private int sessions;  // guarded by this
  private long lanes;  // guarded by this
  private final AtomicInteger queuedRepliesHighWater = new AtomicInteger();

  ServerResources(ServerLimits limits) {
    this.limits = limits;
  }

  /** What was granted; {@link #release} gives it back once (later calls do nothing). */
  final class Grant {
    private final int sessionCount;
    private final int laneCount;
    private final boolean overLimit;
    private final AtomicBoolean released = new AtomicBoolean();

    private Grant(int sessionCount, int laneCount, boolean overLimit) {
      this.sessionCount = sessionCount;
      this.laneCount = laneCount;
      this.overLimit = overLimit;
    }

    /** A session place beyond --max-sessions: good only for resuming a kept session. */
    boolean overLimit() {
      return overLimit;
    }

    void release() {
      if (released.compareAndSet(false, true)) {
        synchronized (ServerResources.this) {
          sessions -= sessionCount;
          lanes -= laneCount;
        }
      }
    }
  }

  /** One more open session, within --max-sessions. */
  synchronized Grant openSession() {
    return openSession(0);
  }

  /**
   * One more open session, within --max-sessions plus {@code resumable} places that only a
   * stream resuming one of that many kept sessions may use ({@link Grant#overLimit}): a full
   * server still lets the clients of its own sessions come back.
   */
  synchronized Grant openSession(int resumable) {
    if (sessions >= limits.maxSessions() + resumable) {
      throw exhausted(maxSessionsMessage(sessions + 1));
    }
    sessions++;
    return new Grant(1, 0, sessions > limits.maxSessions());
  }

  String maxSessionsMessage(int asked) {
    return "session: expected at most " + limits.maxSessions()
        + " open sessions (limit --max-sessions), got " + asked;
  }

  /** {@code n} more lanes for {@code what} (e.g. "make.num_envs"), within --max-total-lanes. */
  synchronized Grant lanes(int n, String what) {
    if (lanes + n > limits.maxTotalLanes()) {
      throw exhausted(what + ": " + n + " lanes would make " + (lanes + n) + " on the server, "
          + "expected at most " + limits.maxTotalLanes() + " (limit --max-total-lanes; "
          + lanes + " in use)");
    }
    lanes += n;
    return new Grant(0, n, false);
  }

  synchronized int sessions() {
    return sessions;
  }

  synchronized long lanes() {
    return lanes;
  }

  /** Records a session's count of replies waiting for its client (every reply: no lock). */
  void noteQueuedReplies(int count) {
    if (count > queuedRepliesHighWater.get()) {
      queuedRepliesHighWater.accumulateAndGet(count, Math::max);
    }
  }

  /** The most replies any one session has had waiting for its client, since the start. */
  int queuedRepliesHighWater() {
    return queuedRepliesHighWater.get();
  }

  static StatusRuntimeException exhausted(String description) {
    return Status.RESOURCE_EXHAUSTED.withDescription(description).asRuntimeException();
  }
}
