package io.dsogym.train;

import io.dsogym.env.EnvUnavailableException;
import io.dsogym.env.VectorEnv;
import io.dsogym.policy.ObservationNormalizer;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The trainer's evaluations off its critical path: each evaluates a snapshot of θ and of the
 * observation statistics on lanes of its own ({@link Evaluator}), on a thread of its own, while
 * training goes on. Evaluations run one at a time in the order submitted, and each depends only
 * on its θ, statistics and seed, so it returns what a synchronous evaluation at that point
 * returns. The lanes are opened at the first evaluation; a lost evaluation worker is replaced
 * once per evaluation. Inline (not on a thread) when asked: the synchronous mode.
 */
final class BackgroundEvaluator implements AutoCloseable {
  /** Readies the evaluation lanes for θ (the system part of --system-params), or nothing. */
  interface LanePreparation {
    void apply(double[] theta, VectorEnv lanes);
  }

  private final LaneSource lanes;
  private final int numLanes;
  /**
   * The steps of freshly opened lanes: the server's (with a policy of this thread's own:
   * policies keep work arrays) or the worker's.
   */
  private final Function<VectorEnv, Evaluator.Steps> stepsOf;
  private final int obsDim;
  private final int episodes;
  private final LanePreparation prepare;
  private final BooleanSupplier stopping;
  private final PrintStream console;
  /** The evaluation thread, or null for inline evaluations. */
  private final ExecutorService thread;
  /** Used only by the evaluating thread (inline: the trainer's), closed by {@link #close}. */
  private VectorEnv env;
  private Evaluator.Steps steps;

  BackgroundEvaluator(LaneSource lanes, int numLanes,
      Function<VectorEnv, Evaluator.Steps> stepsOf, int obsDim, int episodes,
      LanePreparation prepare, BooleanSupplier stopping, PrintStream console, boolean async) {
    this.lanes = lanes;
    this.numLanes = numLanes;
    this.stepsOf = stepsOf;
    this.obsDim = obsDim;
    this.episodes = episodes;
    this.prepare = prepare;
    this.stopping = stopping;
    this.console = console;
    this.thread = !async ? null : Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "dsogym-eval");
      t.setDaemon(true);  // never holds the JVM open; close() ends it
      return t;
    });
  }

  /**
   * Evaluates θ (the caller's copies: neither may change afterwards) with resets seeded by
   * {@code seed}; the future gives the episodes' returns or what the evaluation threw.
   */
  Future<double[]> submit(double[] theta, ObservationNormalizer normalizer, long seed) {
    return run(() -> evaluate(theta, normalizer, seed), thread);
  }

  /** Runs {@code task} on {@code thread}, or at once on this thread when it is null. */
  static Future<double[]> run(Callable<double[]> task, ExecutorService thread) {
    if (thread != null) {
      return thread.submit(task);
    }
    FutureTask<double[]> done = new FutureTask<>(task);
    done.run();
    return done;
  }

  /** The evaluation's returns, or the exception it threw (unwrapped). */
  static double[] result(Future<double[]> evaluation) throws Exception {
    try {
      return evaluation.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      throw (Error) e.getCause();
    }
  }

  private double[] evaluate(double[] theta, ObservationNormalizer normalizer, long seed)
      throws Exception {
    for (int attempt = 0; ; attempt++) {
      try {
        if (env == null) {
          env = lanes.open(numLanes, "eval");
          steps = stepsOf.apply(env);
        }
        prepare.apply(theta, env);
        return Evaluator.evaluate(steps, obsDim, theta, normalizer, episodes, seed);
      } catch (EnvUnavailableException e) {
        if (attempt > 0 || stopping.getAsBoolean()) {
          throw e;
        }
        console.printf("[train] lost the evaluation worker (%s): %s%n", e.getMessage(),
            lanes.replacementNote());
        if (env != null) {
          env.close();
          env = null;
        }
      }
    }
  }

  /** Stops an evaluation still running (its result is not wanted) and closes the lanes. */
  @Override
  public void close() throws InterruptedException {
    if (thread != null) {
      thread.shutdownNow();
      if (!thread.awaitTermination(10, TimeUnit.SECONDS)) {
        console.println("[train] an evaluation did not stop within 10 s; closing its lanes");
      }
    }
    if (env != null) {
      env.close();
    }
  }
}
