package io.dsogym.policy;

import io.dsogym.env.DType;
import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;

/** Turns policy actions (rows of doubles) into the env's batched action value. */
public final class EnvActions {
  private EnvActions() {}

  /**
   * Discrete: index + start as int64 [rows]. Box: the Gaussian sample clipped to the bounds,
   * in the Box's dtype and shape [rows, ...]; clipping happens only here, so the recorded
   * ln pi is that of the unclipped sample (DSO issue: "clipping happens only at the env").
   */
  public static Value toEnv(Space space, double[] actions, int rows, int actDim) {
    if (space instanceof Space.Discrete d) {
      Tensor t = Tensor.zeros(DType.INT64, rows);
      for (int i = 0; i < rows; i++) {
        t.setLong(i, d.start() + (long) actions[i]);
      }
      return t;
    }
    if (!(space instanceof Space.Box box)) {
      throw new IllegalArgumentException("action space: expected Discrete or Box, got " + space);
    }
    int[] shape = new int[box.shape().length + 1];
    shape[0] = rows;
    System.arraycopy(box.shape(), 0, shape, 1, box.shape().length);
    Tensor t = Tensor.zeros(box.dtype(), shape);
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < actDim; j++) {
        double a = actions[i * actDim + j];
        t.setDouble(i * actDim + j, Math.max(box.low()[j], Math.min(box.high()[j], a)));
      }
    }
    return t;
  }
}
