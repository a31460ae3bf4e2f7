package io.dsogym.wire;

import io.dsogym.env.DType;
import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.wire.v1.BoxSpace;
import io.dsogym.wire.v1.DictSpace;
import io.dsogym.wire.v1.DictSpaceEntry;
import io.dsogym.wire.v1.DiscreteSpace;
import io.dsogym.wire.v1.MultiBinarySpace;
import io.dsogym.wire.v1.MultiDiscreteSpace;
import io.dsogym.wire.v1.TupleSpace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link Space} <-> wire {@code dsogym.v1.Space}, all six kinds. Box bounds travel as tensors
 * of the box's dtype (so the dtype and shape are those of {@code low}); MultiDiscrete nvec and
 * start as INT64 tensors.
 */
public final class SpaceCodec {
  private SpaceCodec() {}

  public static io.dsogym.wire.v1.Space encode(Space space) {
    io.dsogym.wire.v1.Space.Builder b = io.dsogym.wire.v1.Space.newBuilder();
    if (space instanceof Space.Box box) {
      return b.setBox(BoxSpace.newBuilder()
          .setLow(TensorCodec.encode(Tensor.of(box.dtype(), box.shape(), box.low())))
          .setHigh(TensorCodec.encode(Tensor.of(box.dtype(), box.shape(), box.high()))))
          .build();
    }
    if (space instanceof Space.Discrete d) {
      return b.setDiscrete(DiscreteSpace.newBuilder().setN(d.n()).setStart(d.start())).build();
    }
    if (space instanceof Space.MultiDiscrete md) {
      return b.setMultiDiscrete(MultiDiscreteSpace.newBuilder()
          .setNvec(TensorCodec.encode(Tensor.ofInt64(md.shape(), md.nvec())))
          .setStart(TensorCodec.encode(Tensor.ofInt64(md.shape(), md.start())))).build();
    }
    if (space instanceof Space.MultiBinary mb) {
      MultiBinarySpace.Builder mbb = MultiBinarySpace.newBuilder();
      for (int d : mb.shape()) {
        mbb.addShape(d);
      }
      return b.setMultiBinary(mbb).build();
    }
    if (space instanceof Space.Dict dict) {
      DictSpace.Builder db = DictSpace.newBuilder();
      for (Map.Entry<String, Space> e : dict.spaces().entrySet()) {
        db.addEntries(DictSpaceEntry.newBuilder().setKey(e.getKey())
            .setSpace(encode(e.getValue())));
      }
      return b.setDict(db).build();
    }
    Space.Tuple tuple = (Space.Tuple) space;
    TupleSpace.Builder tb = TupleSpace.newBuilder();
    for (Space s : tuple.spaces()) {
      tb.addSpaces(encode(s));
    }
    return b.setTuple(tb).build();
  }

  /**
   * Decodes and validates a space.
   *
   * @param field the wire field, named in errors (e.g. "hello.env.observation_space")
   */
  public static Space decode(io.dsogym.wire.v1.Space space, String field) {
    try {
      return decodeUnchecked(space, field);
    } catch (IllegalArgumentException e) {
      if (e.getMessage() != null && e.getMessage().startsWith(field)) {
        throw e;
      }
      throw new IllegalArgumentException(field + ": " + e.getMessage(), e);
    }
  }

  private static Space decodeUnchecked(io.dsogym.wire.v1.Space space, String field) {
    switch (space.getKindCase()) {
      case BOX: {
        Tensor low = TensorCodec.decode(space.getBox().getLow(), field + ".box.low");
        Tensor high = TensorCodec.decode(space.getBox().getHigh(), field + ".box.high");
        if (low.dtype() != high.dtype() || !Arrays.equals(low.shape(), high.shape())) {
          throw new IllegalArgumentException(field + ".box.high: expected "
              + low.dtype().numpyName() + Arrays.toString(low.shape()) + " like low, got "
              + high.dtype().numpyName() + Arrays.toString(high.shape()));
        }
        return new Space.Box(low.dtype(), low.shape(), low.toDoubleArray(),
            high.toDoubleArray());
      }
      case DISCRETE: {
        DiscreteSpace d = space.getDiscrete();
        if (d.getN() <= 0) {
          throw new IllegalArgumentException(field + ".discrete.n: expected > 0, got "
              + d.getN());
        }
        return new Space.Discrete(d.getN(), d.getStart());
      }
      case MULTI_DISCRETE: {
        MultiDiscreteSpace md = space.getMultiDiscrete();
        Tensor nvec = TensorCodec.decode(md.getNvec(), field + ".multi_discrete.nvec");
        requireInteger(nvec, field + ".multi_discrete.nvec");
        long[] start = new long[nvec.size()];
        if (md.hasStart()) {
          Tensor s = TensorCodec.decode(md.getStart(), field + ".multi_discrete.start");
          requireInteger(s, field + ".multi_discrete.start");
          if (!Arrays.equals(s.shape(), nvec.shape())) {
            throw new IllegalArgumentException(field + ".multi_discrete.start: expected shape "
                + Arrays.toString(nvec.shape()) + " like nvec, got " + Arrays.toString(s.shape()));
          }
          for (int i = 0; i < start.length; i++) {
            start[i] = s.getLong(i);
          }
        }
        long[] n = new long[nvec.size()];
        for (int i = 0; i < n.length; i++) {
          n[i] = nvec.getLong(i);
        }
        return new Space.MultiDiscrete(nvec.shape(), n, start);
      }
      case MULTI_BINARY: {
        List<Long> dims = space.getMultiBinary().getShapeList();
        int[] shape = new int[dims.size()];
        for (int i = 0; i < shape.length; i++) {
          long d = dims.get(i);
          if (d < 0 || d > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(field + ".multi_binary.shape[" + i
                + "]: expected a dimension in [0, " + Integer.MAX_VALUE + "], got " + d);
          }
          shape[i] = (int) d;
        }
        return new Space.MultiBinary(shape);
      }
      case DICT: {
        Map<String, Space> spaces = new LinkedHashMap<>();
        for (DictSpaceEntry e : space.getDict().getEntriesList()) {
          if (spaces.containsKey(e.getKey())) {
            throw new IllegalArgumentException(field + ".dict: expected unique keys, got '"
                + e.getKey() + "' twice");
          }
          spaces.put(e.getKey(), decode(e.getSpace(), field + "." + e.getKey()));
        }
        return new Space.Dict(spaces);
      }
      case TUPLE: {
        List<Space> spaces = new ArrayList<>();
        for (int i = 0; i < space.getTuple().getSpacesCount(); i++) {
          spaces.add(decode(space.getTuple().getSpaces(i), field + "[" + i + "]"));
        }
        return new Space.Tuple(spaces);
      }
      default:
        throw new IllegalArgumentException(field + ": expected a box, discrete, multi_discrete,"
            + " multi_binary, dict or tuple space, got nothing (no kind set)");
    }
  }

  private static void requireInteger(Tensor t, String field) {
    if (t.dtype().floating || t.dtype() == DType.BOOL) {
      throw new IllegalArgumentException(field + ": expected an integer dtype (int64), got "
          + t.dtype().numpyName());
    }
  }
}
