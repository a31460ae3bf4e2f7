package io.dsogym.wire;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON objects on the wire (env kwargs, reset options) as plain Java maps: objects become
 * {@link LinkedHashMap}s in key order, arrays {@link List}s, integral numbers {@link Long}s,
 * other numbers {@link Double}s, and strings, booleans and null themselves.
 */
public final class Json {
  private static final Gson GSON = new GsonBuilder().serializeNulls().create();

  private Json() {}

  /**
   * Parses a JSON object; empty or blank text is the empty map.
   *
   * @param field the wire field, named in errors ("kwargs_json", "reset.options_json")
   * @throws IllegalArgumentException when the text is not a JSON object
   */
  public static Map<String, Object> parseObject(String text, String field) {
    if (text == null || text.isBlank()) {
      return new LinkedHashMap<>();
    }
    JsonElement root;
    try {
      root = JsonParser.parseString(text);
    } catch (JsonParseException e) {
      throw new IllegalArgumentException(field + ": expected a JSON object, got "
          + abbreviate(text) + " (" + rootCause(e) + ")");
    }
    if (!root.isJsonObject()) {
      throw new IllegalArgumentException(field + ": expected a JSON object, got "
          + kind(root) + " " + abbreviate(text));
    }
    return toMap(root.getAsJsonObject(), field);
  }

  /** The map as JSON text ("{}" for an empty or null map). */
  public static String toJson(Map<String, ?> map) {
    return map == null || map.isEmpty() ? "{}" : GSON.toJson(map);
  }

  private static Map<String, Object> toMap(JsonObject o, String field) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : o.entrySet()) {
      out.put(e.getKey(), toJava(e.getValue(), field + "." + e.getKey()));
    }
    return out;
  }

  private static Object toJava(JsonElement e, String field) {
    if (e == null || e.isJsonNull()) {
      return null;
    }
    if (e.isJsonObject()) {
      return toMap(e.getAsJsonObject(), field);
    }
    if (e.isJsonArray()) {
      JsonArray a = e.getAsJsonArray();
      List<Object> out = new ArrayList<>(a.size());
      for (int i = 0; i < a.size(); i++) {
        out.add(toJava(a.get(i), field + "[" + i + "]"));
      }
      return out;
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    if (p.isBoolean()) {
      return p.getAsBoolean();
    }
    if (p.isString()) {
      return p.getAsString();
    }
    BigDecimal d;
    try {
      d = p.getAsBigDecimal();
    } catch (NumberFormatException beyondGson) { // Gson refuses exponents beyond its limit, e.g. 1E9999999
      throw new IllegalArgumentException(field + ": expected a number within double range, got "
          + abbreviate(p.getAsString()));
    }
    try {
      return d.longValueExact();
    } catch (ArithmeticException notIntegral) {
      double v = d.doubleValue();
      if (Double.isInfinite(v)) {
        throw new IllegalArgumentException(field + ": expected a number within double range, "
            + "got " + abbreviate(p.getAsString()));
      }
      return v;
    }
  }

  private static String kind(JsonElement e) {
    if (e.isJsonNull()) {
      return "null";
    }
    if (e.isJsonArray()) {
      return "an array";
    }
    if (e.isJsonPrimitive()) {
      JsonPrimitive p = e.getAsJsonPrimitive();
      return p.isBoolean() ? "a boolean" : p.isNumber() ? "a number" : "a string";
    }
    return "an object";
  }

  private static String abbreviate(String text) {
    String t = text.length() > 80 ? text.substring(0, 77) + "..." : text;
    return "'" + t + "'";
  }

  private static String rootCause(Throwable e) {
    Throwable c = e;
    while (c.getCause() != null) {
      c = c.getCause();
    }
    return c.getMessage();
  }
}
