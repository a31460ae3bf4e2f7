package io.dsogym.env;

import java.util.Map;

/**
 * An env whose observation also holds the action taken before it (0 at an episode's start):
 * a flat Box observation gains the action's values, the index of a Discrete action or the
 * elements of a flat Box one. Policies that must know what they did last need it; behavioural
 * cloning uses it to give the learner a cue that predicts the expert's action on the expert's
 * own episodes but not on the learner's (docs/experiments.md, {@code experiment cloning}).
 */
public final class PreviousActionObservation implements Env {
  private final Env inner;
  private final EnvSpec spec;
  private final int obsSize;
  private final double[] previous;

  public PreviousActionObservation(Env inner) {
    EnvSpec s = inner.spec();
    if (!(s.observationSpace() instanceof Space.Box box) || box.shape().length != 1) {
      throw new IllegalArgumentException("observation space of " + s.id() + ": expected a flat "
          + "Box, got " + s.observationSpace());
    }
    double[] actionLow;
    double[] actionHigh;
    if (s.actionSpace() instanceof Space.Discrete d) {
      actionLow = new double[] {Math.min(0, d.start())};
      actionHigh = new double[] {Math.max(0, d.start() + d.n() - 1)};
    } else if (s.actionSpace() instanceof Space.Box a && a.shape().length == 1) {
      actionLow = a.low().clone();
      actionHigh = a.high().clone();
      for (int i = 0; i < actionLow.length; i++) {  // 0 (no action yet) must lie inside
        actionLow[i] = Math.min(0, actionLow[i]);
        actionHigh[i] = Math.max(0, actionHigh[i]);
      }
    } else {
      throw new IllegalArgumentException("action space of " + s.id() + ": expected Discrete or "
          + "a flat Box, got " + s.actionSpace());
    }
    this.inner = inner;
    this.obsSize = box.shape()[0];
    this.previous = new double[actionLow.length];
    int size = obsSize + previous.length;
    double[] low = java.util.Arrays.copyOf(box.low(), size);
    double[] high = java.util.Arrays.copyOf(box.high(), size);
    System.arraycopy(actionLow, 0, low, obsSize, previous.length);
    System.arraycopy(actionHigh, 0, high, obsSize, previous.length);
    this.spec = new EnvSpec(s.id(), new Space.Box(box.dtype(), new int[] {size}, low, high),
        s.actionSpace(), s.maxEpisodeSteps(), s.rewardThreshold(), s.metadata(),
        s.kwargsJson());
  }

  @Override
  public EnvSpec spec() {
    return spec;
  }

  @Override
  public ResetResult reset(Long seed, Map<String, Object> options) {
    ResetResult r = inner.reset(seed, options);
    java.util.Arrays.fill(previous, 0);
    return new ResetResult(withPrevious(r.observation()), r.info());
  }

  @Override
  public boolean clipsActions() {
    return inner.clipsActions();
  }

  @Override
  public StepResult step(Value action) {
    StepResult r = inner.step(action);  // checks the action; a refused one changes nothing
    ((Tensor) action).copyTo(previous, 0);
    if (inner.clipsActions() && spec.actionSpace() instanceof Space.Box box) {
      for (int i = 0; i < previous.length; i++) {  // the action the env applied
        previous[i] = Math.max(box.low()[i], Math.min(box.high()[i], previous[i]));
      }
    }
    return new StepResult(withPrevious(r.observation()), r.reward(), r.terminated(),
        r.truncated(), r.info());
  }

  private Value withPrevious(Value observation) {
    Tensor obs = (Tensor) observation;
    double[] values = java.util.Arrays.copyOf(obs.toDoubleArray(), obsSize + previous.length);
    System.arraycopy(previous, 0, values, obsSize, previous.length);
    return Tensor.of(obs.dtype(), new int[] {values.length}, values);
  }

  @Override
  public void close() {
    inner.close();
  }
}
