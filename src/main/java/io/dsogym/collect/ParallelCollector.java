package io.dsogym.collect;

import io.dsogym.chain.TrajectoryBatch;
import io.dsogym.env.EnvUnavailableException;
import io.dsogym.policy.ObservationNormalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One batch from several workers at once: a {@link Collector} per worker (its own lanes, its
 * own policy instance), each collecting its chunk on a thread of its own, the chunks joined
 * into one step-major batch (column by column: worker 0's lanes, then worker 1's, ...).
 *
 * <p><b>Quorum.</b> A batch closes once the chunks collected under this call's θ cover at
 * least {@code quorum} of the lanes (1: every worker's, and the batch is the same whatever
 * the threads' timing). A worker still collecting then finishes its chunk, which joins the
 * next batch, in the columns before the fresh chunks: it was sampled under an older θ, its ln
 * π is that behaviour policy's (each sub-collect gets a snapshot of θ and the observation
 * statistics taken when it starts), and the batch is marked {@link TrajectoryBatch#offChain}
 * so the surrogate's ratios correct for it (docs/math.md §4b). Late chunks do not count toward
 * the quorum: each batch holds at least that fraction of lanes sampled under the current θ.
 * Every worker not lost is always collecting during a collect call: one that delivers a late
 * chunk starts a fresh one at once, so a batch may hold two chunks of the same lanes (the
 * older in the earlier columns); {@link TrajectoryBatch#laneId} names each column's lane.
 *
 * <p><b>A lost worker</b> ({@link EnvUnavailableException} from its collect) loses its open
 * chunk only: the batch closes with the other workers' chunks, and at the next collect the
 * worker is replaced through {@link Replacement} (blocking until the new lanes are there). Its
 * new lanes get new lane ids, so no episode spans the old and the new lanes. Any other failure
 * of a sub-collect is rethrown.
 *
 * <p>Not thread-safe: one caller thread; the sub-collectors are each used by one thread at a
 * time.
 */
public final class ParallelCollector implements Collector {
  /** Opens the collector that replaces a lost worker, reset and ready to collect. */
  @FunctionalInterface
  public interface Replacement {
    /**
     * @param worker the lost worker's index
     * @param cause why it was lost
     * @throws Exception to give up instead (the run is stopping): it reaches the caller of
     *     collect
     */
    Collector open(int worker, EnvUnavailableException cause) throws Exception;
  }

  private final Worker[] workers;
  private final double quorum;
  private final Replacement replacement;
  private final ExecutorService threads;
  private final LinkedBlockingQueue<Chunk> delivered = new LinkedBlockingQueue<>();
  private long generation;
  private int nextLaneId;
  private long lateChunks;
  private long workersLost;

  /** A worker's slot: its collector, its lane ids, and what it is doing. */
  private static final class Worker {
    Collector collector;
    int firstLane;
    /** Two buffers: a late chunk awaiting assembly while the next one is collected. */
    final TrajectoryBatch[] buffers = new TrajectoryBatch[2];
    int nextBuffer;
    boolean busy;
    EnvUnavailableException lost;
  }

  /** A finished sub-collect: its chunk, or why it failed. */
  private record Chunk(int worker, long generation, int firstLane, TrajectoryBatch steps,
      RuntimeException failure) {}

  /**
   * @param collectors one per worker, reset; closed with this collector
   * @param quorum the fraction of the lanes, 0 < quorum <= 1, whose fresh chunks close a batch
   */
  public ParallelCollector(List<? extends Collector> collectors, double quorum,
      Replacement replacement) {
    if (collectors.isEmpty()) {
      throw new IllegalArgumentException("collectors: expected at least one, got none");
    }
    if (!(quorum > 0 && quorum <= 1)) {
      throw new IllegalArgumentException("quorum: expected a fraction of the lanes, "
          + "0 < quorum <= 1, got " + quorum);
    }
    this.quorum = quorum;
    this.replacement = replacement;
    this.workers = new Worker[collectors.size()];
    for (int w = 0; w < workers.length; w++) {
      workers[w] = new Worker();
      workers[w].collector = collectors.get(w);
      workers[w].firstLane = nextLaneId;
      nextLaneId += collectors.get(w).numLanes();
    }
    AtomicInteger names = new AtomicInteger();
    this.threads = Executors.newFixedThreadPool(workers.length, r -> {
      Thread t = new Thread(r, "dsogym-collect-" + names.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  public int numWorkers() {
    return workers.length;
  }

  /** The current collectors, one per worker. */
  public List<Collector> collectors() {
    List<Collector> out = new ArrayList<>();
    for (Worker w : workers) {
      out.add(w.collector);
    }
    return out;
  }

  /** Chunks that arrived after their batch had closed (each went into a later one). */
  public long lateChunks() {
    return lateChunks;
  }

  /** Workers lost (each replaced, or being replaced at the next collect). */
  public long workersLost() {
    return workersLost;
  }

  @Override
  public int numLanes() {
    int n = 0;
    for (Worker w : workers) {
      n += w.collector.numLanes();
    }
    return n;
  }

  @Override
  public String describe() {
    StringBuilder s = new StringBuilder(workers.length + " workers: ");
    for (int w = 0; w < workers.length; w++) {
      s.append(w == 0 ? "" : ", ").append(workers[w].collector.describe());
    }
    return s.toString();
  }

  @Override
  public void collect(double[] theta, ObservationNormalizer normalizer, int stepsPerLane,
      TrajectoryBatch out) {
    generation++;
    double[] thetaNow = theta.clone();
    ObservationNormalizer statsNow = snapshot(normalizer);
    List<Chunk> chunks = new ArrayList<>();
    while (chunks.isEmpty()) {  // empty only when every worker was lost: replaced, then again
      for (Chunk c; (c = delivered.poll()) != null; ) {
        receive(c, chunks);  // late chunks that finished since the last batch closed
      }
      replaceLost();
      for (int w = 0; w < workers.length; w++) {
        if (!workers[w].busy && workers[w].lost == null) {
          submit(w, thetaNow, statsNow, stepsPerLane, out);
        }
      }
      int need = (int) Math.ceil(quorum * numLanes() - 1e-9);
      while (freshLanes(chunks) < need && anyBusy()) {
        Chunk c;
        try {
          c = delivered.take();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new EnvUnavailableException(EnvUnavailableException.Reason.CANCELLED,
              "interrupted while waiting for the workers' chunks", e);
        }
        receive(c, chunks);
        if (c.failure() == null && c.generation() < generation) {
          submit(c.worker(), thetaNow, statsNow, stepsPerLane, out);  // a late one: go again
        }
      }
    }
    join(chunks, out);
  }

  /** Starts worker w's next chunk under (theta, stats) on its thread. */
  private void submit(int w, double[] theta, ObservationNormalizer stats, int stepsPerLane,
      TrajectoryBatch shape) {
    Worker worker = workers[w];
    TrajectoryBatch buffer = worker.buffers[worker.nextBuffer];
    if (buffer == null) {
      buffer = new TrajectoryBatch(shape.obsDim, shape.actionDim);
      worker.buffers[worker.nextBuffer] = buffer;
    }
    worker.nextBuffer ^= 1;
    Collector c = worker.collector;
    long gen = generation;
    int firstLane = worker.firstLane;
    TrajectoryBatch into = buffer;
    worker.busy = true;
    threads.execute(() -> {
      try {
        c.collect(theta, stats, stepsPerLane, into);
        delivered.add(new Chunk(w, gen, firstLane, into, null));
      } catch (RuntimeException e) {
        delivered.add(new Chunk(w, gen, firstLane, null, e));
      }
    });
  }

  private void receive(Chunk c, List<Chunk> chunks) {
    Worker worker = workers[c.worker()];
    worker.busy = false;
    if (c.failure() == null) {
      chunks.add(c);
      if (c.generation() < generation) {
        lateChunks++;
      }
    } else if (c.failure() instanceof EnvUnavailableException lost) {
      worker.lost = lost;  // its chunk is gone; replaced at the next collect
      workersLost++;
    } else {
      throw c.failure();
    }
  }

  private void replaceLost() {
    for (int w = 0; w < workers.length; w++) {
      Worker worker = workers[w];
      if (worker.lost == null) {
        continue;
      }
      Collector next;
      try {
        next = replacement.open(w, worker.lost);
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException("replacing worker " + w + ": " + e.getMessage(), e);
      }
      worker.collector.close();
      worker.collector = next;
      worker.firstLane = nextLaneId;
      nextLaneId += next.numLanes();
      worker.lost = null;
    }
  }

  private int freshLanes(List<Chunk> chunks) {
    int n = 0;
    for (Chunk c : chunks) {
      if (c.generation() == generation) {
        n += c.steps().numLanes;
      }
    }
    return n;
  }

  /** Whether a chunk is in flight: a fresh one, or a late one whose worker then goes again. */
  private boolean anyBusy() {
    for (Worker w : workers) {
      if (w.busy) {
        return true;
      }
    }
    return false;
  }

  /** The chunks side by side, late ones first, each in worker order: one step-major batch. */
  private void join(List<Chunk> chunks, TrajectoryBatch out) {
    chunks.sort(Comparator.comparingLong(Chunk::generation).thenComparingInt(Chunk::worker));
    int steps = chunks.get(0).steps().stepsPerLane;
    int lanes = 0;
    boolean offChain = false;
    for (Chunk c : chunks) {
      TrajectoryBatch b = c.steps();
      if (b.stepsPerLane != steps) {
        throw new IllegalStateException("worker " + c.worker() + "'s chunk: expected "
            + steps + " steps per lane, got " + b.stepsPerLane);
      }
      // refused here, naming the worker; the whole batch is refused, as one worker's would be
      NonFiniteValueException.requireFinite(b, workers[c.worker()].collector.describe());
      lanes += b.numLanes;
      offChain |= b.offChain || c.generation() < generation;
    }
    out.ensureCapacity(lanes, steps);
    out.offChain = offChain;
    int d = out.obsDim;
    int a = out.actionDim;
    int column = 0;
    for (Chunk c : chunks) {
      TrajectoryBatch b = c.steps();
      int n = b.numLanes;
      for (int j = 0; j < n; j++) {
        out.laneId[column + j] = c.firstLane() + j;
      }
      for (int k = 0; k < steps; k++) {
        int from = k * n;
        int to = k * lanes + column;
        System.arraycopy(b.obs, from * d, out.obs, to * d, n * d);
        System.arraycopy(b.nextObs, from * d, out.nextObs, to * d, n * d);
        System.arraycopy(b.actions, from * a, out.actions, to * a, n * a);
        System.arraycopy(b.logProb, from, out.logProb, to, n);
        System.arraycopy(b.cost, from, out.cost, to, n);
        System.arraycopy(b.terminated, from, out.terminated, to, n);
        System.arraycopy(b.truncated, from, out.truncated, to, n);
        System.arraycopy(b.episodeStep, from, out.episodeStep, to, n);
      }
      column += n;
    }
  }

  /** A copy of the statistics, fixed while a sub-collect reads them on its own thread. */
  private static ObservationNormalizer snapshot(ObservationNormalizer normalizer) {
    if (normalizer == null) {
      return null;
    }
    ObservationNormalizer copy = new ObservationNormalizer(normalizer.dim(),
        normalizer.enabled(), normalizer.clip());
    copy.set(normalizer.mean(), normalizer.var(), normalizer.count());
    return copy;
  }

  @Override
  public void close() {
    for (Worker w : workers) {
      w.collector.close();
    }
    threads.shutdownNow();
  }
}
