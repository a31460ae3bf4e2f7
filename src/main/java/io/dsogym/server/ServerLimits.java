package io.dsogym.server;

/**
 * The resource limits and flow-control settings of a {@link DsoGymServer}, each with a stated
 * default and a {@code bin/dsogym serve} option of the same name. A request over a limit is
 * refused with the limit's option name and the value that broke it, and changes nothing:
 * INVALID_ARGUMENT when the request alone is too big (lanes of one session or one worker,
 * kwargs bytes, matrix sizes), RESOURCE_EXHAUSTED when the server as a whole is full (total
 * lanes, concurrent sessions), which may pass later.
 *
 * @param maxSessionLanes the most lanes one session may make ({@code --max-session-lanes},
 *     default 4,096)
 * @param maxWorkerLanes the most lanes one worker may declare in its hello
 *     ({@code --max-worker-lanes}, default 4,096)
 * @param maxTotalLanes the most lanes of all sessions and workers together
 *     ({@code --max-total-lanes}, default 65,536)
 * @param maxKwargsBytes the largest make kwargs_json and reset options_json, in UTF-8 bytes
 *     ({@code --max-kwargs-bytes}, default 1 MiB)
 * @param maxMatrixDim the most items in any list of the kwargs, at any depth: the most rows
 *     and the most columns of a matrix such as LQR's A, B, Q, R and W, so it bounds the LQR's
 *     state and action sizes ({@code --max-matrix-dim}, default 512)
 * @param maxSessions the most sessions open at once ({@code --max-sessions}, default 256)
 * @param maxQueuedReplies the most replies one session may have waiting for its client to
 *     read them; the server stops reading that session's requests until the client catches up
 *     ({@code --max-queued-replies}, default 4)
 * @param maxQueuedReplyBytes the same, in bytes: a session stops being read once its waiting
 *     replies reach this size (one reply of any size may always wait)
 *     ({@code --max-queued-reply-bytes}, default 8 MiB)
 * @param handlerThreads the threads that run requests (never the network threads): a slow
 *     request holds one of them, and requests of other streams go on on the others
 *     ({@code --handler-threads}, default 16)
 */
public record ServerLimits(int maxSessionLanes, int maxWorkerLanes, int maxTotalLanes,
    int maxKwargsBytes, int maxMatrixDim, int maxSessions, int maxQueuedReplies,
    int maxQueuedReplyBytes, int handlerThreads) {
  public static final int DEFAULT_MAX_SESSION_LANES = 4096;
  public static final int DEFAULT_MAX_WORKER_LANES = 4096;
  public static final int DEFAULT_MAX_TOTAL_LANES = 65_536;
  public static final int DEFAULT_MAX_KWARGS_BYTES = 1 << 20;
  public static final int DEFAULT_MAX_MATRIX_DIM = 512;
  public static final int DEFAULT_MAX_SESSIONS = 256;
  public static final int DEFAULT_MAX_QUEUED_REPLIES = 4;
  public static final int DEFAULT_MAX_QUEUED_REPLY_BYTES = 8 << 20;
  public static final int DEFAULT_HANDLER_THREADS = 16;

  public ServerLimits {
    positive(maxSessionLanes, "max-session-lanes");
    positive(maxWorkerLanes, "max-worker-lanes");
    positive(maxTotalLanes, "max-total-lanes");
    positive(maxKwargsBytes, "max-kwargs-bytes");
    positive(maxMatrixDim, "max-matrix-dim");
    positive(maxSessions, "max-sessions");
    positive(maxQueuedReplies, "max-queued-replies");
    positive(maxQueuedReplyBytes, "max-queued-reply-bytes");
    positive(handlerThreads, "handler-threads");
  }

  public static ServerLimits defaults() {
    return new ServerLimits(DEFAULT_MAX_SESSION_LANES, DEFAULT_MAX_WORKER_LANES,
        DEFAULT_MAX_TOTAL_LANES, DEFAULT_MAX_KWARGS_BYTES, DEFAULT_MAX_MATRIX_DIM,
        DEFAULT_MAX_SESSIONS, DEFAULT_MAX_QUEUED_REPLIES, DEFAULT_MAX_QUEUED_REPLY_BYTES,
        DEFAULT_HANDLER_THREADS);
  }

  public ServerLimits withMaxSessionLanes(int v) {
    return new ServerLimits(v, maxWorkerLanes, maxTotalLanes, maxKwargsBytes, maxMatrixDim,
        maxSessions, maxQueuedReplies, maxQueuedReplyBytes, handlerThreads);
  }

  public ServerLimits withMaxWorkerLanes(int v) {
    return new ServerLimits(maxSessionLanes, v, maxTotalLanes, maxKwargsBytes, maxMatrixDim,
        maxSessions, maxQueuedReplies, maxQueuedReplyBytes, handlerThreads);
  }

  public ServerLimits withMaxTotalLanes(int v) {
    return new ServerLimits(maxSessionLanes, maxWorkerLanes, v, maxKwargsBytes, maxMatrixDim,
        maxSessions, maxQueuedReplies, maxQueuedReplyBytes, handlerThreads);
  }

  public ServerLimits withMaxKwargsBytes(int v) {
    return new ServerLimits(maxSessionLanes, maxWorkerLanes, maxTotalLanes, v, maxMatrixDim,
        maxSessions, maxQueuedReplies, maxQueuedReplyBytes, handlerThreads);
  }

  public ServerLimits withMaxMatrixDim(int v) {
    return new ServerLimits(maxSessionLanes, maxWorkerLanes, maxTotalLanes, maxKwargsBytes, v,
        maxSessions, maxQueuedReplies, maxQueuedReplyBytes, handlerThreads);
  }

  public ServerLimits withMaxSessions(int v) {
    return new ServerLimits(maxSessionLanes, maxWorkerLanes, maxTotalLanes, maxKwargsBytes,
        maxMatrixDim, v, maxQueuedReplies, maxQueuedReplyBytes, handlerThreads);
  }

  public ServerLimits withMaxQueuedReplies(int v) {
    return new ServerLimits(maxSessionLanes, maxWorkerLanes, maxTotalLanes, maxKwargsBytes,
        maxMatrixDim, maxSessions, v, maxQueuedReplyBytes, handlerThreads);
  }

  public ServerLimits withMaxQueuedReplyBytes(int v) {
    return new ServerLimits(maxSessionLanes, maxWorkerLanes, maxTotalLanes, maxKwargsBytes,
        maxMatrixDim, maxSessions, maxQueuedReplies, v, handlerThreads);
  }

  public ServerLimits withHandlerThreads(int v) {
    return new ServerLimits(maxSessionLanes, maxWorkerLanes, maxTotalLanes, maxKwargsBytes,
        maxMatrixDim, maxSessions, maxQueuedReplies, maxQueuedReplyBytes, v);
  }

  /** One line naming every limit, for the server's start-up log. */
  public String describe() {
    return "max-session-lanes " + maxSessionLanes + ", max-worker-lanes " + maxWorkerLanes
        + ", max-total-lanes " + maxTotalLanes + ", max-kwargs-bytes " + maxKwargsBytes
        + ", max-matrix-dim " + maxMatrixDim + ", max-sessions " + maxSessions
        + ", max-queued-replies " + maxQueuedReplies + ", max-queued-reply-bytes "
        + maxQueuedReplyBytes + ", handler-threads " + handlerThreads;
  }

  private static void positive(int v, String name) {
    if (v < 1) {
      throw new IllegalArgumentException("--" + name + ": expected a value >= 1, got " + v);
    }
  }
}
