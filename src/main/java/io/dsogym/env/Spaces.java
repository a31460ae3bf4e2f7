package io.dsogym.env;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Helpers over spaces and values: validation messages, batching and unbatching. */
public final class Spaces {
  private Spaces() {}

  static Tensor requireTensor(Value value, String field, Space space) {
    if (value instanceof Tensor t) {
      return t;
    }
    throw new IllegalArgumentException(field + ": expected a tensor for " + space + ", got "
        + kind(value));
  }

  static void requireInteger(Tensor t, String field) {
    if (t.dtype().floating || t.dtype() == DType.BOOL) {
      throw new IllegalArgumentException(field + ": expected an integer dtype, got "
          + t.dtype().numpyName());
    }
  }

  static void requireShape(Tensor t, int[] lead, int[] shape, String field) {
    int[] want = new int[lead.length + shape.length];
    System.arraycopy(lead, 0, want, 0, lead.length);
    System.arraycopy(shape, 0, want, lead.length, shape.length);
    if (!Arrays.equals(t.shape(), want)) {
      throw new IllegalArgumentException(field + ": expected shape " + Arrays.toString(want)
          + ", got " + Arrays.toString(t.shape()));
    }
  }

  static String index(Tensor t, int flat) {
    if (t.rank() == 0) {
      return "";
    }
    int[] idx = new int[t.rank()];
    for (int a = t.rank() - 1; a >= 0; a--) {
      idx[a] = flat % t.dim(a);
      flat /= t.dim(a);
    }
    return Arrays.toString(idx);
  }

  static String kind(Value v) {
    if (v == null) {
      return "nothing";
    }
    if (v instanceof Tensor t) {
      return "a tensor " + t.dtype().numpyName() + Arrays.toString(t.shape());
    }
    if (v instanceof DictValue d) {
      return "a dict value with keys " + d.entries().keySet();
    }
    return "a tuple value of " + ((TupleValue) v).items().size() + " items";
  }

  /** Stacks per-lane values into one batched value [N, ...] (gymnasium's concatenate). */
  public static Value stack(List<? extends Value> lanes) {
    if (lanes.isEmpty()) {
      throw new IllegalArgumentException("stack: expected at least one lane, got none");
    }
    Value first = lanes.get(0);
    if (first instanceof Tensor t) {
      int[] shape = new int[t.rank() + 1];
      shape[0] = lanes.size();
      System.arraycopy(t.shape(), 0, shape, 1, t.rank());
      Tensor out = Tensor.zeros(t.dtype(), shape);
      java.nio.ByteBuffer dst = out.bytesForWrite();
      for (Value v : lanes) {
        if (!(v instanceof Tensor lane) || lane.dtype() != t.dtype()
            || !Arrays.equals(lane.shape(), t.shape())) {
          throw new IllegalArgumentException("stack: lanes differ: " + kind(t) + " vs "
              + kind(v));
        }
        dst.put(lane.bytes());
      }
      return out;
    }
    if (first instanceof DictValue d) {
      for (Value v : lanes) {
        if (!(v instanceof DictValue dv) || !dv.entries().keySet().equals(d.entries().keySet())) {
          throw new IllegalArgumentException("stack: lanes differ: " + kind(d) + " vs "
              + kind(v));
        }
      }
      Map<String, Value> out = new LinkedHashMap<>();
      for (String key : d.entries().keySet()) {
        List<Value> parts = new ArrayList<>(lanes.size());
        for (Value v : lanes) {
          parts.add(((DictValue) v).entries().get(key));
        }
        out.put(key, stack(parts));
      }
      return new DictValue(out);
    }
    TupleValue tv = (TupleValue) first;
    for (Value v : lanes) {
      if (!(v instanceof TupleValue other) || other.items().size() != tv.items().size()) {
        throw new IllegalArgumentException("stack: lanes differ: " + kind(tv) + " vs "
            + kind(v));
      }
    }
    List<Value> out = new ArrayList<>();
    for (int i = 0; i < tv.items().size(); i++) {
      List<Value> parts = new ArrayList<>(lanes.size());
      for (Value v : lanes) {
        parts.add(((TupleValue) v).items().get(i));
      }
      out.add(stack(parts));
    }
    return new TupleValue(out);
  }

  /** Lane {@code i} of a batched value (views, no copy). */
  public static Value lane(Value batched, int i) {
    if (batched instanceof Tensor t) {
      return t.lane(i);
    }
    if (batched instanceof DictValue d) {
      Map<String, Value> out = new LinkedHashMap<>();
      d.entries().forEach((k, v) -> out.put(k, lane(v, i)));
      return new DictValue(out);
    }
    List<Value> out = new ArrayList<>();
    for (Value v : ((TupleValue) batched).items()) {
      out.add(lane(v, i));
    }
    return new TupleValue(out);
  }

  /** The number of lanes N of a batched value (leading dimension of its first leaf). */
  public static int batchSize(Value batched) {
    return batchSize(batched, "batched value");
  }

  /**
   * The same, naming {@code field} in errors.
   *
   * @throws IllegalArgumentException for a scalar leaf, or a dict or tuple with no leaf at all
   */
  public static int batchSize(Value batched, String field) {
    if (batched instanceof Tensor t) {
      if (t.rank() == 0) {
        throw new IllegalArgumentException(field + ": expected a leading lane dimension, got "
            + "a scalar");
      }
      return t.dim(0);
    }
    List<Value> items = batched instanceof DictValue d ? List.copyOf(d.entries().values())
        : ((TupleValue) batched).items();
    if (items.isEmpty()) {
      throw new IllegalArgumentException(field + ": expected a value with a leading lane "
          + "dimension, got an empty " + (batched instanceof DictValue ? "dict" : "tuple"));
    }
    return batchSize(items.get(0), field);
  }

}
