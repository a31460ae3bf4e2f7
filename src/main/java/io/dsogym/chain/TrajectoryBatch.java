package io.dsogym.chain;

/**
 * A batch of chain transitions x_t -> x_{t+1} recorded under one theta_k (docs/math.md §3f step 1),
 * step-major: transition {@code i = k * numLanes + lane} is lane {@code lane}'s k-th step of the
 * batch, so each lane's transitions are chronological at stride {@code numLanes}.
 *
 * <p>Per transition: the observation x (raw, not normalized), the sampled action, ln pi(a|x)
 * under theta_k (or under the behaviour policy of an {@link #offChain} batch), the step cost l = -reward (docs/math.md convention: J is a cost), the next
 * observation x' (the final observation when the lane's episode ended in this step),
 * {@code terminated} (x' is terminal: V(x') = 0) and {@code truncated} (cut by a time limit:
 * bootstrap with V̂(x')), and the step's index within its episode (for gamma^t and
 * time-indexed values). A lane still running at the end of the batch is cut there, and
 * Algorithm 1 bootstraps it like a truncation.
 *
 * <p>The arrays are public and flat so collectors fill them without copies; a batch is reused
 * across iterations via {@link #ensureCapacity}.
 */
public final class TrajectoryBatch {
  public final int obsDim;
  public final int actionDim;
  public int numLanes;
  public int stepsPerLane;
  public double[] obs = new double[0];
  public double[] nextObs = new double[0];
  public double[] actions = new double[0];
  public double[] logProb = new double[0];
  public double[] cost = new double[0];
  public boolean[] terminated = new boolean[0];
  public boolean[] truncated = new boolean[0];
  public int[] episodeStep = new int[0];
  /**
   * True when the batch was sampled under an earlier policy than the theta its collect was
   * given (collect-ahead, {@code remote.WorkerSideCollector.setCollectAhead}): {@link #logProb} is
   * then the behaviour policy's, the denominator of the surrogate's ratios (docs/math.md §4b).
   */
  public boolean offChain;
  /**
   * The lane of each column, for what follows a lane across batches (its episode's return):
   * column c holds lane {@code laneId[c]}'s steps. {@link #ensureCapacity} makes it the
   * identity; a collector over several workers ({@code collect.ParallelCollector}) numbers each
   * worker's lanes apart, and its batches may hold some of the lanes, or two chunks of one lane
   * (in chronological column order).
   */
  public int[] laneId = new int[0];

  public TrajectoryBatch(int obsDim, int actionDim) {
    this.obsDim = obsDim;
    this.actionDim = actionDim;
  }

  public int size() {
    return numLanes * stepsPerLane;
  }

  public static int index(int step, int lane, int numLanes) {
    return step * numLanes + lane;
  }

  /** Sizes the batch for {@code stepsPerLane} steps of {@code numLanes} lanes. */
  public void ensureCapacity(int numLanes, int stepsPerLane) {
    this.numLanes = numLanes;
    this.stepsPerLane = stepsPerLane;
    if (laneId.length != numLanes) {
      laneId = new int[numLanes];
    }
    for (int c = 0; c < numLanes; c++) {
      laneId[c] = c;
    }
    int n = numLanes * stepsPerLane;
    if (cost.length != n) {
      obs = new double[n * obsDim];
      nextObs = new double[n * obsDim];
      actions = new double[n * actionDim];
      logProb = new double[n];
      cost = new double[n];
      terminated = new boolean[n];
      truncated = new boolean[n];
      episodeStep = new int[n];
    }
  }

  /** True when transition i ends its episode (terminated or truncated). */
  public boolean ended(int i) {
    return terminated[i] || truncated[i];
  }
}
