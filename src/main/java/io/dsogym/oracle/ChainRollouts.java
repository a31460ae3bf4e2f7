package io.dsogym.oracle;

import io.dsogym.chain.Chain;
import io.dsogym.linalg.Shapes;

import io.dsogym.dso.Algorithm1;
import io.dsogym.chain.TrajectoryBatch;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/**
 * Sampled trajectories of a {@link Chain} recorded as a {@link TrajectoryBatch} (the columns
 * {@link Algorithm1} reads: cost, terminated, truncated, episode step), with the typed states,
 * next states and latents kept alongside so the chain can score each transition.
 *
 * <p>Recording follows docs/math.md §1a's terminal convention: a terminal state x_τ is recorded as
 * its own step with its final cost L(x_τ), {@code terminated = true} and no transition (no
 * score); the lane then restarts from P0 (autoreset). A lane's last step, when it is not
 * terminal, is marked {@code truncated}: Algorithm 1 bootstraps it with V̂(x').
 *
 * <p>The batch carries no observation or action columns (obsDim = actionDim = 0): chain
 * states need not be vectors, and nothing in Algorithm 1 reads them.
 */
public final class ChainRollouts<S> {
  public final TrajectoryBatch batch;
  private final Object[] states;
  private final Object[] nextStates;
  private final double[][] latents;

  private ChainRollouts(int lanes, int steps) {
    batch = new TrajectoryBatch(0, 0);
    batch.ensureCapacity(lanes, steps);
    int n = lanes * steps;
    states = new Object[n];
    nextStates = new Object[n];
    latents = new double[n][];
  }

  /**
   * {@code lanes} independent lanes of {@code steps} steps under θ, each starting at x₀ ~ P0
   * (an episodic or discounted batch; a finite-horizon chain with T steps needs T+1 steps per
   * lane to record its final state).
   */
  public static <S> ChainRollouts<S> episodes(Chain<S> chain, double[] theta, int lanes,
      int steps, SplittableRandom rng) {
    requirePositive("lanes", lanes);
    requirePositive("steps", steps);
    ChainRollouts<S> r = new ChainRollouts<>(lanes, steps);
    for (int lane = 0; lane < lanes; lane++) {
      r.run(chain, theta, lane, chain.sampleInitial(rng), new int[1], steps, rng);
    }
    return r;
  }

  /**
   * One long chain from {@code start}, cut into {@code blocks} consecutive blocks of
   * {@code blockLength} steps, block j recorded as lane j (the average-cost setting, docs/math.md §1b,
   * §3d: each cut is bootstrapped with the differential V̂; block estimates are the batch means).
   * Episode steps count from 0 within each block.
   */
  public static <S> ChainRollouts<S> blocks(Chain<S> chain, double[] theta, S start, int blocks,
      int blockLength, SplittableRandom rng) {
    requirePositive("blocks", blocks);
    requirePositive("blockLength", blockLength);
    ChainRollouts<S> r = new ChainRollouts<>(blocks, blockLength);
    S x = start;
    for (int lane = 0; lane < blocks; lane++) {
      x = r.run(chain, theta, lane, x, new int[1], blockLength, rng);
    }
    return r;
  }

  /**
   * {@code starts.length} lanes that go on from where the previous batch left them, as env lanes
   * do: lane j starts at {@code starts[j]} with episode step {@code episodeSteps[j]}, and both
   * arrays are updated to where each lane ends (a terminal state restarts it from P0).
   */
  public static <S> ChainRollouts<S> continued(Chain<S> chain, double[] theta, S[] starts,
      int[] episodeSteps, int steps, SplittableRandom rng) {
    requirePositive("lanes", starts.length);
    requirePositive("steps", steps);
    ChainRollouts<S> r = new ChainRollouts<>(starts.length, steps);
    for (int lane = 0; lane < starts.length; lane++) {
      int[] t = {episodeSteps[lane]};
      starts[lane] = r.run(chain, theta, lane, starts[lane], t, steps, rng);
      episodeSteps[lane] = t[0];
    }
    return r;
  }

  /** The state after {@code steps} transitions from {@code start} (a burn-in). */
  public static <S> S advance(Chain<S> chain, double[] theta, S start, int steps,
      SplittableRandom rng) {
    S x = start;
    for (int t = 0; t < steps; t++) {
      x = chain.isTerminal(x) ? chain.sampleInitial(rng) : chain.step(x, theta, rng).next();
    }
    return x;
  }

  /**
   * Records one lane from x at episode step t[0]; returns the state after its last step and
   * leaves the episode step there in t[0].
   */
  private S run(Chain<S> chain, double[] theta, int lane, S x, int[] episodeStep, int steps,
      SplittableRandom rng) {
    int lanes = batch.numLanes;
    int t = episodeStep[0];
    for (int k = 0; k < steps; k++) {
      int i = TrajectoryBatch.index(k, lane, lanes);
      states[i] = x;
      batch.cost[i] = chain.cost(x, theta);
      batch.episodeStep[i] = t;
      if (chain.isTerminal(x)) {
        batch.terminated[i] = true;
        x = chain.sampleInitial(rng);
        t = 0;
        continue;
      }
      Chain.Step<S> step = chain.step(x, theta, rng);
      nextStates[i] = step.next();
      latents[i] = step.latent();
      batch.truncated[i] = k == steps - 1;
      x = step.next();
      t++;
    }
    episodeStep[0] = t;
    return x;
  }

  @SuppressWarnings("unchecked")
  public S state(int i) {
    return (S) states[i];
  }

  /** x'_i, or null where step i is a terminal state (no transition). */
  @SuppressWarnings("unchecked")
  public S nextState(int i) {
    return (S) nextStates[i];
  }

  /** The latent of transition i (e.g. the sampled action), or null. */
  public double[] latent(int i) {
    return latents[i];
  }

  /** The state after a lane's last step, or null when that step was terminal. */
  public S finalState(int lane) {
    return nextState(TrajectoryBatch.index(batch.stepsPerLane - 1, lane, batch.numLanes));
  }

  /** Fills value[i] = V̂(x_i) and nextValue[i] = V̂(x'_i) (0 where there is no x'). */
  public void values(ToDoubleFunction<S> valueFunction, double[] value, double[] nextValue) {
    for (int i = 0; i < batch.size(); i++) {
      value[i] = valueFunction.applyAsDouble(state(i));
      S next = nextState(i);
      nextValue[i] = next == null ? 0 : valueFunction.applyAsDouble(next);
    }
  }

  /**
   * Per-lane sums Σ_i [w_i ∇θ ln P(x'_i|x_i) + κ_i ∇θ L(x_i)] (docs/math.md §3d) with Algorithm 1's
   * score weights w_i (from {@link Algorithm1#weights}) and state weights κ_i
   * ({@link Algorithm1#stateWeight}); the chain computes each score. The gradient estimate is
   * their mean over episodes (or over steps, for average cost); their spread gives its standard
   * error.
   */
  public double[][] laneGradients(Chain<S> chain, double[] theta, double[] weights,
      Algorithm1.Options options) {
    Shapes.length("weights", weights, batch.size());
    int lanes = batch.numLanes;
    double[][] g = new double[lanes][chain.numParams()];
    for (int i = 0; i < batch.size(); i++) {
      double[] gLane = g[i % lanes];
      S next = nextState(i);
      if (next != null) {
        chain.score(state(i), next, latents[i], theta, weights[i], gLane);
      }
      chain.costGradient(state(i), theta, Algorithm1.stateWeight(batch, i, options), gLane);
    }
    return g;
  }

  private static void requirePositive(String field, int v) {
    if (v <= 0) {
      throw new IllegalArgumentException(field + ": expected > 0, got " + v);
    }
  }
}
