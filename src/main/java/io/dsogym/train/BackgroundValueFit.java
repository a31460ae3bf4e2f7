package io.dsogym.train;

import io.dsogym.dso.ValueFunction;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * V̂'s refit on batch k, run on a thread of its own while batch k+1 is collected. V̂ fitted on
 * batch k is first read at iteration k+1, after its collection (docs/math.md §3f steps 1 and 5),
 * so the overlap changes no figure: the fit sees copies of its inputs and its own seeded
 * shuffle, and nobody touches V̂ until {@link #finish} returns.
 */
final class BackgroundValueFit implements AutoCloseable {
  private final ValueFunction value;
  private final ExecutorService thread;
  private double[] inputs = new double[0];
  private double[] targets = new double[0];
  private Future<Double> running;

  BackgroundValueFit(ValueFunction value) {
    this.value = value;
    this.thread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "dsogym-value-fit");
      t.setDaemon(true);  // a fit never keeps the JVM alive
      return t;
    });
  }

  /**
   * Starts fitting V̂ to {@code targets} over the first {@code rows} rows of {@code xs}; both
   * are copied, so the caller may reuse them at once. The previous fit must be finished.
   */
  void start(double[] xs, double[] targetsIn, int rows, int epochs, int minibatch, long seed) {
    if (running != null) {
      throw new IllegalStateException("a V̂ fit is still running: finish() it first");
    }
    int width = value.inputs();
    if (inputs.length != rows * width) {
      inputs = new double[rows * width];
      targets = new double[rows];
    }
    System.arraycopy(xs, 0, inputs, 0, rows * width);
    System.arraycopy(targetsIn, 0, targets, 0, rows);
    running = thread.submit(() -> value.fit(inputs, targets, rows, epochs, minibatch,
        new SplittableRandom(seed)));
  }

  /** Whether a fit was started and not yet {@link #finish}ed. */
  boolean pending() {
    return running != null;
  }

  /** Waits for the fit started last; returns its loss (the mean squared error of its last epoch). */
  double finish() throws InterruptedException {
    Future<Double> f = running;
    running = null;
    try {
      return f.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException("V̂'s fit failed", e.getCause());
    }
  }

  @Override
  public void close() {
    thread.shutdownNow();
  }
}
