package io.dsogym.remote;

import io.dsogym.env.AutoresetMode;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.Value;
import io.dsogym.env.VectorEnv;
import java.util.Map;

/**
 * A client session's lease on a worker ({@link WorkerPool#lease}): the worker's lanes as a
 * {@link VectorEnv}. The worker is taken at the first reset or step and kept until
 * {@link #close}, which gives it back to the pool instead of ending it. Calls are serialized.
 */
final class WorkerLease implements VectorEnv {
  private final WorkerPool pool;
  private final EnvSpec spec;
  private final int numEnvs;
  private final AutoresetMode mode;
  private RemoteVectorEnv worker;  // null until taken
  private boolean closed;

  WorkerLease(WorkerPool pool, EnvSpec spec, int numEnvs, AutoresetMode mode) {
    this.pool = pool;
    this.spec = spec;
    this.numEnvs = numEnvs;
    this.mode = mode;
  }

  private synchronized RemoteVectorEnv worker() {
    if (closed) {
      throw new IllegalStateException(describe() + ": used after close");
    }
    if (worker == null) {
      worker = pool.take(spec.id(), numEnvs, mode);
    }
    return worker;
  }

  @Override
  public EnvSpec spec() {
    return spec;
  }

  @Override
  public int numEnvs() {
    return numEnvs;
  }

  @Override
  public AutoresetMode autoresetMode() {
    return mode;
  }

  @Override
  public synchronized String describe() {
    return worker != null ? worker.describe()
        : numEnvs + " lanes of " + spec.id() + " from a worker (none taken yet)";
  }

  @Override
  public VectorResetResult reset(long[] seeds, Map<String, Object> options, boolean[] mask) {
    return worker().reset(seeds, options, mask);
  }

  @Override
  public VectorResetResult reset(long[] seeds, boolean[] unseeded, Map<String, Object> options,
      boolean[] mask) {
    return worker().reset(seeds, unseeded, options, mask);
  }

  @Override
  public VectorStepResult step(Value actions) {
    return worker().step(actions);
  }

  @Override
  public VectorStepResult stepWithoutInfo(Value actions) {
    return worker().stepWithoutInfo(actions);
  }

  /** Gives the worker back to the pool, if one was taken (once). */
  @Override
  public void close() {
    RemoteVectorEnv taken;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      taken = worker;
    }
    if (taken != null) {
      pool.giveBack(taken);
    }
  }
}
