package io.dsogym.wire;

import io.dsogym.env.DictValue;
import io.dsogym.env.Tensor;
import io.dsogym.env.TupleValue;
import io.dsogym.env.Value;
import io.dsogym.wire.v1.DictValueEntry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@link Value} <-> wire {@code dsogym.v1.Value} (tensors at the leaves, dicts and tuples). */
public final class ValueCodec {
  private ValueCodec() {}

  public static io.dsogym.wire.v1.Value encode(Value v) {
    return encode(v, false);
  }

  /** Encodes without copying tensor bytes: only for values nobody writes to afterwards. */
  public static io.dsogym.wire.v1.Value encodeUnsafe(Value v) {
    return encode(v, true);
  }

  private static io.dsogym.wire.v1.Value encode(Value v, boolean unsafe) {
    io.dsogym.wire.v1.Value.Builder b = io.dsogym.wire.v1.Value.newBuilder();
    if (v instanceof Tensor t) {
      return b.setTensor(unsafe ? TensorCodec.encodeUnsafe(t) : TensorCodec.encode(t)).build();
    }
    if (v instanceof DictValue d) {
      io.dsogym.wire.v1.DictValue.Builder db = io.dsogym.wire.v1.DictValue.newBuilder();
      for (Map.Entry<String, Value> e : d.entries().entrySet()) {
        db.addEntries(DictValueEntry.newBuilder().setKey(e.getKey())
            .setValue(encode(e.getValue(), unsafe)));
      }
      return b.setDict(db).build();
    }
    if (v instanceof TupleValue tv) {
      io.dsogym.wire.v1.TupleValue.Builder tb = io.dsogym.wire.v1.TupleValue.newBuilder();
      for (Value item : tv.items()) {
        tb.addItems(encode(item, unsafe));
      }
      return b.setTuple(tb).build();
    }
    throw new IllegalArgumentException("value: expected a tensor, dict or tuple value, got "
        + (v == null ? "null" : v.getClass().getName()));
  }

  /**
   * Decodes a value, validating every tensor; the structure is checked against a space by the
   * caller ({@code Space.check}/{@code checkBatch}).
   *
   * @param field the wire field, named in errors (e.g. "step.actions")
   */
  public static Value decode(io.dsogym.wire.v1.Value v, String field) {
    switch (v.getKindCase()) {
      case TENSOR:
        return TensorCodec.decode(v.getTensor(), field);
      case DICT: {
        Map<String, Value> entries = new LinkedHashMap<>();
        for (DictValueEntry e : v.getDict().getEntriesList()) {
          String key = field + "." + e.getKey();
          if (entries.containsKey(e.getKey())) {
            throw new IllegalArgumentException(field + ": expected unique keys, got '"
                + e.getKey() + "' twice");
          }
          entries.put(e.getKey(), decode(e.getValue(), key));
        }
        return new DictValue(entries);
      }
      case TUPLE: {
        List<Value> items = new ArrayList<>(v.getTuple().getItemsCount());
        for (int i = 0; i < v.getTuple().getItemsCount(); i++) {
          items.add(decode(v.getTuple().getItems(i), field + "[" + i + "]"));
        }
        return new TupleValue(items);
      }
      default:
        throw new IllegalArgumentException(field + ": expected a tensor, dict or tuple value, "
            + "got nothing (no kind set)");
    }
  }
}
