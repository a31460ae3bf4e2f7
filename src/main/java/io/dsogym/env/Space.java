package io.dsogym.env;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * A Gymnasium 1.x space. {@link #check} validates one value and {@link #checkBatch} a batched
 * value [N, ...]; both throw {@link IllegalArgumentException} naming the field, what was
 * expected and what came. Non-finite floats (NaN, +-Inf) never belong to a space.
 */
public sealed interface Space
    permits Space.Box, Space.Discrete, Space.MultiDiscrete, Space.MultiBinary, Space.Dict,
        Space.Tuple {

  /** Throws when {@code value} is not an element of this space. */
  default void check(Value value, String field) {
    checkLeading(value, field, new int[0]);
  }

  /** Throws when {@code value} is not a batch of {@code n} elements of this space. */
  default void checkBatch(Value value, int n, String field) {
    checkLeading(value, field, new int[] {n});
  }

  /** Checks a value whose leaves carry the extra leading dimensions {@code lead}. */
  void checkLeading(Value value, String field, int[] lead);

  /**
   * {@link #check} for the action of an env that clips its actions into the space, as
   * Gymnasium's Pendulum does ({@link Env#clipsActions}): a Box then takes finite values
   * outside its bounds; dtype, shape, NaN/Inf and every other space are checked as usual.
   */
  default void checkClipped(Value value, String field) {
    checkLeadingClipped(value, field, new int[0]);
  }

  /** {@link #checkBatch} for the actions of an env that clips them ({@link #checkClipped}). */
  default void checkBatchClipped(Value value, int n, String field) {
    checkLeadingClipped(value, field, new int[] {n});
  }

  /** {@link #checkLeading} without a Box's bounds ({@link #checkClipped}). */
  default void checkLeadingClipped(Value value, String field, int[] lead) {
    checkLeading(value, field, lead);
  }

  /** A uniformly random element (bounded dimensions) drawn from {@code rng}. */
  Value sample(RandomGenerator rng);

  /** Whether the value belongs to the space. */
  default boolean contains(Value value) {
    try {
      check(value, "value");
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * gymnasium.spaces.Box with element-wise bounds (+-Infinity where unbounded).
   *
   * @param low lower bounds in C order, one per element
   * @param high upper bounds in C order, one per element
   */
  record Box(DType dtype, int[] shape, double[] low, double[] high) implements Space {
    public Box {
      shape = shape.clone();
      low = low.clone();
      high = high.clone();
      int size = Tensor.sizeOf(shape);
      if (low.length != size || high.length != size) {
        throw new IllegalArgumentException("Box bounds: expected " + size + " elements for shape "
            + Arrays.toString(shape) + ", got low " + low.length + " and high " + high.length);
      }
      if (dtype == DType.BOOL) {
        throw new IllegalArgumentException("Box dtype: expected a numeric dtype, got bool");
      }
      if (dtype == DType.FLOAT32) {
        // As gymnasium casts the bounds to the dtype: a float32 element is then inside the
        // box exactly when it is inside the rounded bounds (4.8 -> 4.800000190734863), and a
        // sample rounded to float32 cannot land outside them.
        for (int i = 0; i < size; i++) {
          low[i] = (float) low[i];
          high[i] = (float) high[i];
        }
      }
      for (int i = 0; i < size; i++) {
        if (!(low[i] <= high[i])) {
          throw new IllegalArgumentException("Box bounds: expected low <= high at element " + i
              + ", got low " + low[i] + " and high " + high[i]);
        }
      }
    }

    /** A box with the same bounds for every element. */
    public static Box uniform(DType dtype, int[] shape, double low, double high) {
      int size = Tensor.sizeOf(shape);
      double[] lo = new double[size];
      double[] hi = new double[size];
      Arrays.fill(lo, low);
      Arrays.fill(hi, high);
      return new Box(dtype, shape, lo, hi);
    }

    public int size() {
      return low.length;
    }

    public boolean isBounded(int i) {
      return Double.isFinite(low[i]) && Double.isFinite(high[i]);
    }

    @Override
    public void checkLeading(Value value, String field, int[] lead) {
      checkLeading(value, field, lead, true);
    }

    @Override
    public void checkLeadingClipped(Value value, String field, int[] lead) {
      checkLeading(value, field, lead, false);
    }

    private void checkLeading(Value value, String field, int[] lead, boolean withinBounds) {
      Tensor t = Spaces.requireTensor(value, field, this);
      if (dtype.floating) {
        if (t.dtype() == DType.BOOL) {
          throw new IllegalArgumentException(field + ": expected dtype " + dtype.numpyName()
              + " (or another numeric dtype), got bool");
        }
      } else if (t.dtype().floating || t.dtype() == DType.BOOL) {
        throw new IllegalArgumentException(field + ": expected integer dtype "
            + dtype.numpyName() + ", got " + t.dtype().numpyName());
      }
      Spaces.requireShape(t, lead, shape, field);
      int per = size();
      for (int i = 0; i < t.size(); i++) {
        double v = t.getDouble(i);
        int e = i % per;
        if (!Double.isFinite(v)) {
          throw new IllegalArgumentException(field + Spaces.index(t, i) + ": expected a finite "
              + "number, got " + v);
        }
        if (withinBounds && (v < low[e] || v > high[e])) {
          throw new IllegalArgumentException(field + Spaces.index(t, i) + ": expected a value in ["
              + low[e] + ", " + high[e] + "], got " + v);
        }
      }
    }

    @Override
    public Value sample(RandomGenerator rng) {
      Tensor t = Tensor.zeros(dtype, shape);
      for (int i = 0; i < size(); i++) {
        double lo = low[i];
        double hi = high[i];
        double v;
        if (isBounded(i)) {
          v = dtype.floating ? lo + (hi - lo) * rng.nextDouble()
              : lo + Math.floor(rng.nextDouble() * (hi - lo + 1));
          v = Math.min(v, hi);
        } else if (Double.isFinite(lo)) {
          v = lo + -Math.log(1 - rng.nextDouble());  // exponential, as gymnasium does
        } else if (Double.isFinite(hi)) {
          v = hi + Math.log(1 - rng.nextDouble());
        } else {
          v = rng.nextGaussian();
        }
        t.setDouble(i, dtype.floating ? v : Math.floor(v));
      }
      return t;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Box b && b.dtype == dtype && Arrays.equals(b.shape, shape)
          && Arrays.equals(b.low, low) && Arrays.equals(b.high, high);
    }

    @Override
    public int hashCode() {
      return 31 * dtype.hashCode() + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
      return "Box(" + dtype.numpyName() + Arrays.toString(shape) + ")";
    }
  }

  /** gymnasium.spaces.Discrete: the integers start .. start+n-1, as int64 scalars. */
  record Discrete(long n, long start) implements Space {
    public Discrete {
      if (n <= 0) {
        throw new IllegalArgumentException("Discrete n: expected > 0, got " + n);
      }
    }

    public Discrete(long n) {
      this(n, 0);
    }

    @Override
    public void checkLeading(Value value, String field, int[] lead) {
      Tensor t = Spaces.requireTensor(value, field, this);
      Spaces.requireInteger(t, field);
      Spaces.requireShape(t, lead, new int[0], field);
      for (int i = 0; i < t.size(); i++) {
        long v = t.getLong(i);
        if (v < start || v >= start + n) {
          throw new IllegalArgumentException(field + Spaces.index(t, i) + ": expected an integer in ["
              + start + ", " + (start + n - 1) + "], got " + v);
        }
      }
    }

    @Override
    public Value sample(RandomGenerator rng) {
      return Tensor.scalarInt64(start + rng.nextLong(n));
    }
  }

  /** gymnasium.spaces.MultiDiscrete: element i in [start[i], start[i] + nvec[i] - 1], int64. */
  record MultiDiscrete(int[] shape, long[] nvec, long[] start) implements Space {
    public MultiDiscrete {
      shape = shape.clone();
      nvec = nvec.clone();
      start = start.clone();
      int size = Tensor.sizeOf(shape);
      if (nvec.length != size || start.length != size) {
        throw new IllegalArgumentException("MultiDiscrete: expected " + size + " nvec and start "
            + "elements, got " + nvec.length + " and " + start.length);
      }
      for (long k : nvec) {
        if (k <= 0) {
          throw new IllegalArgumentException("MultiDiscrete nvec: expected > 0, got " + k);
        }
      }
    }

    @Override
    public void checkLeading(Value value, String field, int[] lead) {
      Tensor t = Spaces.requireTensor(value, field, this);
      Spaces.requireInteger(t, field);
      Spaces.requireShape(t, lead, shape, field);
      for (int i = 0; i < t.size(); i++) {
        int e = i % nvec.length;
        long v = t.getLong(i);
        if (v < start[e] || v >= start[e] + nvec[e]) {
          throw new IllegalArgumentException(field + Spaces.index(t, i) + ": expected an integer in ["
              + start[e] + ", " + (start[e] + nvec[e] - 1) + "], got " + v);
        }
      }
    }

    @Override
    public Value sample(RandomGenerator rng) {
      Tensor t = Tensor.zeros(DType.INT64, shape);
      for (int i = 0; i < nvec.length; i++) {
        t.setLong(i, start[i] + rng.nextLong(nvec[i]));
      }
      return t;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof MultiDiscrete m && Arrays.equals(m.shape, shape)
          && Arrays.equals(m.nvec, nvec) && Arrays.equals(m.start, start);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(nvec);
    }

    @Override
    public String toString() {
      return "MultiDiscrete(" + Arrays.toString(nvec) + ")";
    }
  }

  /** gymnasium.spaces.MultiBinary: int8 elements in {0, 1}. */
  record MultiBinary(int[] shape) implements Space {
    public MultiBinary {
      shape = shape.clone();
      Tensor.sizeOf(shape);
    }

    @Override
    public void checkLeading(Value value, String field, int[] lead) {
      Tensor t = Spaces.requireTensor(value, field, this);
      Spaces.requireInteger(t, field);
      Spaces.requireShape(t, lead, shape, field);
      for (int i = 0; i < t.size(); i++) {
        long v = t.getLong(i);
        if (v != 0 && v != 1) {
          throw new IllegalArgumentException(field + Spaces.index(t, i) + ": expected 0 or 1, got " + v);
        }
      }
    }

    @Override
    public Value sample(RandomGenerator rng) {
      Tensor t = Tensor.zeros(DType.INT8, shape);
      for (int i = 0; i < t.size(); i++) {
        t.setLong(i, rng.nextBoolean() ? 1 : 0);
      }
      return t;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof MultiBinary m && Arrays.equals(m.shape, shape);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
      return "MultiBinary(" + Arrays.toString(shape) + ")";
    }
  }

  /** gymnasium.spaces.Dict: sub-spaces in key order. */
  record Dict(Map<String, Space> spaces) implements Space {
    public Dict {
      spaces = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(spaces));
    }

    @Override
    public void checkLeading(Value value, String field, int[] lead) {
      if (!(value instanceof DictValue d)) {
        throw new IllegalArgumentException(field + ": expected a dict value for " + this
            + ", got " + Spaces.kind(value));
      }
      if (!d.entries().keySet().equals(spaces.keySet())) {
        throw new IllegalArgumentException(field + ": expected keys " + spaces.keySet()
            + ", got " + d.entries().keySet());
      }
      for (Map.Entry<String, Space> e : spaces.entrySet()) {
        e.getValue().checkLeading(d.entries().get(e.getKey()), field + "." + e.getKey(), lead);
      }
    }

    @Override
    public Value sample(RandomGenerator rng) {
      Map<String, Value> out = new LinkedHashMap<>();
      spaces.forEach((k, s) -> out.put(k, s.sample(rng)));
      return new DictValue(out);
    }

    @Override
    public String toString() {
      return "Dict(" + spaces + ")";
    }
  }

  /** gymnasium.spaces.Tuple. */
  record Tuple(List<Space> spaces) implements Space {
    public Tuple {
      spaces = List.copyOf(spaces);
    }

    @Override
    public void checkLeading(Value value, String field, int[] lead) {
      if (!(value instanceof TupleValue tv)) {
        throw new IllegalArgumentException(field + ": expected a tuple value for " + this
            + ", got " + Spaces.kind(value));
      }
      if (tv.items().size() != spaces.size()) {
        throw new IllegalArgumentException(field + ": expected a tuple of " + spaces.size()
            + " items, got " + tv.items().size());
      }
      for (int i = 0; i < spaces.size(); i++) {
        spaces.get(i).checkLeading(tv.items().get(i), field + "[" + i + "]", lead);
      }
    }

    @Override
    public Value sample(RandomGenerator rng) {
      List<Value> out = new ArrayList<>();
      for (Space s : spaces) {
        out.add(s.sample(rng));
      }
      return new TupleValue(out);
    }

    @Override
    public String toString() {
      return "Tuple(" + spaces + ")";
    }
  }
}
