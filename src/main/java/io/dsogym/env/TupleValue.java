package io.dsogym.env;

import java.util.List;

/** A value of a {@link Space.Tuple}. */
public record TupleValue(List<Value> items) implements Value {
  public TupleValue {
    items = List.copyOf(items);
  }
}
