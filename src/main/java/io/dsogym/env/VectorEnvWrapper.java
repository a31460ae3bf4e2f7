package io.dsogym.env;

import java.util.Map;

/**
 * A vector env that hands every call to another one (Gymnasium's VectorWrapper): subclass it and
 * override the calls to change, such as {@link #step} to pace, count or fail steps.
 * {@link #stepWithoutInfo} goes through {@link #step}, so overriding that one sees every step.
 */
public abstract class VectorEnvWrapper implements VectorEnv {
  protected final VectorEnv inner;

  protected VectorEnvWrapper(VectorEnv inner) {
    this.inner = inner;
  }

  @Override
  public EnvSpec spec() {
    return inner.spec();
  }

  @Override
  public int numEnvs() {
    return inner.numEnvs();
  }

  @Override
  public AutoresetMode autoresetMode() {
    return inner.autoresetMode();
  }

  @Override
  public String describe() {
    return inner.describe();
  }

  @Override
  public VectorResetResult reset(long[] seeds, Map<String, Object> options, boolean[] mask) {
    return inner.reset(seeds, options, mask);
  }

  @Override
  public VectorResetResult reset(long[] seeds, boolean[] unseeded, Map<String, Object> options,
      boolean[] mask) {
    return inner.reset(seeds, unseeded, options, mask);
  }

  @Override
  public VectorStepResult step(Value actions) {
    return inner.step(actions);
  }

  @Override
  public void close() {
    inner.close();
  }
}
