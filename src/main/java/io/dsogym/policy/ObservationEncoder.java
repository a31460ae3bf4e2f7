package io.dsogym.policy;

import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.env.Value;

/**
 * Turns a batch of env observations into the flat feature vectors a policy and V̂ read: a Box
 * observation is flattened as it is; a {@code Discrete(n, start)} one becomes the one-hot
 * vector of its n values (a linear policy on it is then the tabular softmax policy).
 */
public final class ObservationEncoder {
  private final Space space;
  private final int dim;
  private final long start;

  private ObservationEncoder(Space space, int dim, long start) {
    this.space = space;
    this.dim = dim;
    this.start = start;
  }

  /** The encoder of an observation space: a Box, or a Discrete of at most 1,000,000 values. */
  public static ObservationEncoder forSpace(Space space) {
    if (space instanceof Space.Box box) {
      return new ObservationEncoder(space, box.size(), 0);
    }
    if (space instanceof Space.Discrete d) {
      if (d.n() > 1_000_000) {
        throw new IllegalArgumentException("observation space: expected a Discrete of at most "
            + "1000000 values (one-hot encoded), got " + space);
      }
      return new ObservationEncoder(space, (int) d.n(), d.start());
    }
    throw new IllegalArgumentException("observation space: expected a Box (flat vector "
        + "observations) or a Discrete (one-hot encoded), got " + space);
  }

  /** Whether observations are passed through unchanged (a Box). */
  public boolean isIdentity() {
    return space instanceof Space.Box;
  }

  /** The length of one encoded observation. */
  public int dim() {
    return dim;
  }

  /** The encoded observations of {@code lanes} lanes, lane after lane. */
  public double[] encode(Value observations, int lanes, String what) {
    if (!(observations instanceof Tensor t)) {
      throw new IllegalArgumentException(what + ": expected a tensor, got a structured value");
    }
    if (isIdentity()) {
      return t.toDoubleArray();
    }
    double[] index = t.toDoubleArray();
    if (index.length != lanes) {
      throw new IllegalArgumentException(what + ": expected " + lanes + " discrete values, got "
          + index.length);
    }
    double[] out = new double[lanes * dim];
    for (int lane = 0; lane < lanes; lane++) {
      oneHot((long) index[lane], out, lane * dim);
    }
    return out;
  }

  /** Writes the one-hot vector of discrete value {@code value} at {@code out[off..off+dim)}. */
  public void oneHot(long value, double[] out, int off) {
    long k = value - start;
    if (k < 0 || k >= dim) {
      throw new IllegalArgumentException("observation: expected a value in [" + start + ", "
          + (start + dim) + "), got " + value);
    }
    java.util.Arrays.fill(out, off, off + dim, 0.0);
    out[off + (int) k] = 1.0;
  }
}
