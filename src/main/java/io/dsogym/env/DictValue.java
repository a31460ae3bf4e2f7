package io.dsogym.env;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** A value of a {@link Space.Dict}: entries in the space's key order. */
public record DictValue(Map<String, Value> entries) implements Value {
  public DictValue {
    entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
  }
}
