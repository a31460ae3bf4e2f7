package io.dsogym.remote;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.EnvUnavailableException;
import io.dsogym.env.VectorEnv;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The workers connected to the server, from which Java code takes {@link RemoteVectorEnv}s.
 * A worker is handed out once ({@link #awaitWorker}); it leaves the pool when its env is closed
 * or it disconnects, and the listeners hear of both.
 *
 * <p>Client sessions (the hub) borrow workers instead ({@link #lease}): an idle worker serving
 * the session's env, exclusively until the session ends, when it comes back fresh. Trainers
 * and sessions take from the same idle set, so a worker serves one of them at a time.
 */
public final class WorkerPool {
  private static final Logger log = Logger.getLogger(WorkerPool.class.getName());

  /** Hears of workers coming and going. Called on a gRPC thread: return quickly. */
  public interface Listener {
    default void onConnected(WorkerInfo worker) {}

    /**
     * The worker left the pool.
     *
     * @param cause why: null when its env was closed normally
     */
    default void onDisconnected(WorkerInfo worker, Throwable cause) {}
  }

  private final Object lock = new Object();
  private final Map<String, RemoteVectorEnv> connected = new LinkedHashMap<>();
  private final ArrayDeque<RemoteVectorEnv> idle = new ArrayDeque<>();
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private final AtomicLong ids = new AtomicLong();
  /** Set by {@link #closeIdle} (server shutdown): a worker given back then is closed too. */
  private volatile String closingReason;
  /** Set by {@link #endWaits}: every wait for workers, present or future, ends with it. */
  private String waitsEndedReason;

  public void addListener(Listener listener) {
    listeners.add(listener);
  }

  public void removeListener(Listener listener) {
    listeners.remove(listener);
  }

  /** A fresh worker id: "w-1", "w-2", ... */
  public String newWorkerId() {
    return "w-" + ids.incrementAndGet();
  }

  /**
   * Takes a connected worker serving {@code envId}, waiting for one to connect.
   *
   * @param envId the env id the worker declared in its hello; null takes any worker
   * @throws EnvUnavailableException (DEADLINE_EXCEEDED) when none came within the timeout
   */
  public RemoteVectorEnv awaitWorker(String envId, Duration timeout) {
    return awaitWorkers(envId, 1, timeout).get(0);
  }

  /**
   * Takes {@code count} connected workers serving {@code envId}, all or none. An id of
   * Gymnasium's {@code module:EnvId} form (import the module, then make EnvId) matches workers
   * serving EnvId: that is the id a worker declares once its module has registered the env.
   *
   * @throws EnvUnavailableException (DEADLINE_EXCEEDED) when fewer came within the timeout;
   *     (CANCELLED) when interrupted or after {@link #endWaits}
   */
  public List<RemoteVectorEnv> awaitWorkers(String envId, int count, Duration timeout) {
    if (count < 1) {
      throw new IllegalArgumentException("count: expected >= 1, got " + count);
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    String served = envId == null ? null : envId.substring(envId.lastIndexOf(':') + 1);
    synchronized (lock) {
      while (true) {
        if (waitsEndedReason != null) {
          throw new EnvUnavailableException(EnvUnavailableException.Reason.CANCELLED, "stopped "
              + "waiting for a worker for env '" + envId + "': " + waitsEndedReason, null);
        }
        List<RemoteVectorEnv> matching = new ArrayList<>();
        for (RemoteVectorEnv env : idle) {
          if (served == null || served.equals(env.spec().id())) {
            matching.add(env);
            if (matching.size() == count) {
              idle.removeAll(matching);
              return matching;
            }
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new EnvUnavailableException(EnvUnavailableException.Reason.DEADLINE_EXCEEDED, "expected "
              + count + " idle worker(s) for env " + (envId == null ? "(any)" : "'" + envId + "'")
              + " within " + timeout.toMillis() + " ms, got " + matching.size()
              + "; connected workers: " + describeLocked(), null);
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new EnvUnavailableException(EnvUnavailableException.Reason.CANCELLED,
              "interrupted while waiting for a worker for env '" + envId + "'", e);
        }
      }
    }
  }

  /**
   * Ends every wait in {@link #awaitWorkers}, now and from now on, with CANCELLED saying
   * {@code reason}: a stopping run is not held up by a worker that may never come.
   */
  public void endWaits(String reason) {
    synchronized (lock) {
      waitsEndedReason = reason;
      lock.notifyAll();
    }
  }

  /**
   * The hub: a client session's lease on a worker serving {@code envId} with {@code numEnvs}
   * lanes, run in {@code mode}. The lease takes an idle worker at its first reset or step (so
   * an env made and closed unused, as Gymnasium's env checker does, takes none) and has it to
   * itself until closed; then the worker comes back configured to its handshake's mode with
   * fresh lanes, and idle again. A worker that died meanwhile has left the pool already.
   *
   * @return null when no connected worker serves {@code envId}
   * @throws IllegalArgumentException when no worker serving it has {@code numEnvs} lanes
   */
  public VectorEnv lease(String envId, int numEnvs, AutoresetMode mode) {
    EnvSpec spec = null;
    List<Integer> lanes = new ArrayList<>();
    synchronized (lock) {
      for (RemoteVectorEnv env : connected.values()) {
        if (envId.equals(env.spec().id())) {
          lanes.add(env.numEnvs());
          if (spec == null && env.numEnvs() == numEnvs) {
            spec = env.spec();
          }
        }
      }
    }
    if (lanes.isEmpty()) {
      return null;
    }
    if (spec == null) {
      throw new IllegalArgumentException("make.num_envs: expected the lane count of a worker "
          + "serving '" + envId + "' (one of " + lanes + "), got " + numEnvs);
    }
    return new WorkerLease(this, spec, numEnvs, mode);
  }

  /**
   * A lease's start: takes an idle worker serving {@code envId} with {@code numEnvs} lanes
   * and configures it for {@code mode} when it runs another.
   *
   * @throws StatusRuntimeException RESOURCE_EXHAUSTED when every such worker is in use
   * @throws EnvUnavailableException (UNAVAILABLE) when none is connected any more
   * @throws IllegalStateException when the worker cannot switch to {@code mode}
   */
  RemoteVectorEnv take(String envId, int numEnvs, AutoresetMode mode) {
    RemoteVectorEnv taken = null;
    synchronized (lock) {
      int serving = 0;
      for (RemoteVectorEnv env : connected.values()) {
        if (envId.equals(env.spec().id()) && env.numEnvs() == numEnvs) {
          serving++;
          if (taken == null && idle.contains(env)) {
            taken = env;
          }
        }
      }
      if (serving == 0) {
        throw new EnvUnavailableException(EnvUnavailableException.Reason.UNAVAILABLE, "env '"
            + envId + "' x " + numEnvs + ": no connected worker serves it any more", null);
      }
      if (taken == null) {
        throw Status.RESOURCE_EXHAUSTED.withDescription("env '" + envId + "' x " + numEnvs
            + ": all " + serving + " worker(s) serving it are busy (each serves one client "
            + "session or training run at a time); try again later or connect another worker")
            .asRuntimeException();
      }
      idle.remove(taken);
    }
    try {
      if (taken.autoresetMode() != mode) {
        if (!taken.supportsConfigure()) {
          throw new IllegalStateException("autoreset_mode: " + taken.describe() + " runs "
              + taken.autoresetMode() + " and cannot switch (it lacks the capability "
              + RemoteVectorEnv.CONFIGURE + "); expected " + taken.autoresetMode() + ", got "
              + mode);
        }
        taken.configure(mode);
      }
    } catch (RuntimeException e) {
      giveBack(taken);
      throw e;
    }
    RemoteVectorEnv lent = taken;
    log.info(() -> lent.describe() + " lent to a client session, autoreset " + mode);
    return taken;
  }

  /** A lease's end: the worker made fresh in its handshake's mode and idle again. */
  void giveBack(RemoteVectorEnv env) {
    if (!env.isAlive()) {
      return;  // it disconnected (and left the pool) or was closed
    }
    if (closingReason != null) {
      env.close(closingReason);
      return;
    }
    if (env.supportsConfigure()) {
      try {
        env.configure(env.info().autoresetMode());
      } catch (RuntimeException e) {
        env.close("could not be made fresh after a client session: " + e.getMessage());
        return;
      }
    }
    String closing;
    synchronized (lock) {
      closing = closingReason;  // read under the lock closeIdle sets it in: none slips past
      if (closing == null && connected.containsKey(env.workerId()) && env.isAlive()
          && !idle.contains(env)) {
        idle.addLast(env);
        lock.notifyAll();
      }
    }
    if (closing != null) {
      env.close(closing);
      return;
    }
    log.info(() -> env.describe() + " back in the pool");
  }

  /** The specs of the envs the connected workers serve, one per env id, in connection order. */
  public List<EnvSpec> servedSpecs() {
    Map<String, EnvSpec> specs = new LinkedHashMap<>();
    synchronized (lock) {
      for (RemoteVectorEnv env : connected.values()) {
        specs.putIfAbsent(env.spec().id(), env.spec());
      }
    }
    return new ArrayList<>(specs.values());
  }

  /** The connected workers, in connection order. */
  public List<WorkerInfo> workers() {
    synchronized (lock) {
      List<WorkerInfo> out = new ArrayList<>();
      for (RemoteVectorEnv env : connected.values()) {
        out.add(env.info());
      }
      return out;
    }
  }

  /** The number of connected workers not yet handed out. */
  public int idleCount() {
    synchronized (lock) {
      return idle.size();
    }
  }

  /** Transport side: a worker finished its handshake. */
  public void register(RemoteVectorEnv env) {
    synchronized (lock) {
      connected.put(env.workerId(), env);
      idle.addLast(env);
      lock.notifyAll();
    }
    log.info(() -> env.info().describe() + " connected, autoreset " + env.autoresetMode());
    for (Listener l : listeners) {
      try {
        l.onConnected(env.info());
      } catch (RuntimeException e) {
        log.log(Level.WARNING, "worker listener failed", e);
      }
    }
  }

  /**
   * Transport side: the worker left (its env closed: cause null; or its stream ended).
   * Idempotent.
   */
  public void remove(RemoteVectorEnv env, Throwable cause) {
    synchronized (lock) {
      if (connected.remove(env.workerId()) == null) {
        return;
      }
      for (Iterator<RemoteVectorEnv> it = idle.iterator(); it.hasNext(); ) {
        if (it.next() == env) {
          it.remove();
        }
      }
    }
    if (cause == null) {
      log.info(() -> env.info().describe() + " closed");
    } else {
      log.warning(() -> env.info().describe() + " disconnected: " + cause
          + "; its unfinished episodes are lost");
    }
    for (Listener l : listeners) {
      try {
        l.onDisconnected(env.info(), cause);
      } catch (RuntimeException e) {
        log.log(Level.WARNING, "worker listener failed", e);
      }
    }
  }

  /**
   * Server shutdown: takes every idle worker out of the pool and closes it, telling it why (a
   * worker then exits). Workers in use are left to their users; those lent to client sessions
   * are closed the same way when given back.
   */
  public void closeIdle(String reason) {
    List<RemoteVectorEnv> idleNow;
    synchronized (lock) {
      closingReason = reason;
      idleNow = new ArrayList<>(idle);
      idle.clear();
    }
    for (RemoteVectorEnv env : idleNow) {
      env.close(reason);
    }
  }

  /** Server shutdown, grace over: ends every worker's stream with UNAVAILABLE saying why. */
  public void goAwayAll(String why) {
    List<RemoteVectorEnv> all;
    synchronized (lock) {
      all = new ArrayList<>(connected.values());
    }
    for (RemoteVectorEnv env : all) {
      env.goAway(why);
    }
  }

  /** Closes every connected worker (server shutdown). */
  public void closeAll() {
    List<RemoteVectorEnv> all;
    synchronized (lock) {
      all = new ArrayList<>(connected.values());
    }
    for (RemoteVectorEnv env : all) {
      env.close();
    }
  }

  private String describeLocked() {
    List<String> out = new ArrayList<>();
    for (RemoteVectorEnv env : connected.values()) {
      out.add(env.info().describe() + (idle.contains(env) ? " idle" : " in use"));
    }
    return out.toString();
  }
}
