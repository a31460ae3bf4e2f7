package io.dsogym.env;

import com.google.gson.Gson;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reading env keyword arguments and reset options as they arrive from JSON (numbers as
 * {@link Number}, lists as {@link List}) or from Java callers (also {@code double[]} and
 * {@code double[][]}). Every error names the field, what was expected and what came.
 */
public final class EnvKwargs {
  private static final Gson GSON = new Gson();

  private EnvKwargs() {}

  /** Throws when {@code map} holds a key outside {@code accepted}. */
  public static void requireKnownKeys(Map<String, ?> map, String what, Set<String> accepted) {
    for (String key : map.keySet()) {
      if (!accepted.contains(key)) {
        throw new IllegalArgumentException(what + ": unknown key '" + key + "'; accepted keys: "
            + new TreeSet<>(accepted));
      }
    }
  }

  /** The kwargs as a JSON object, for {@link EnvSpec#kwargsJson()}. */
  public static String toJson(Map<String, Object> kwargs) {
    return kwargs.isEmpty() ? "{}" : GSON.toJson(kwargs);
  }

  /** A finite number. */
  public static double number(Object value, String field) {
    if (!(value instanceof Number n)) {
      throw new IllegalArgumentException(field + ": expected a number, got " + describe(value));
    }
    double v = n.doubleValue();
    if (!Double.isFinite(v)) {
      throw new IllegalArgumentException(field + ": expected a finite number, got " + v);
    }
    return v;
  }

  /** {@code map.get(key)} as a finite number, or {@code otherwise} when absent. */
  public static double number(Map<String, ?> map, String key, double otherwise, String prefix) {
    return map.containsKey(key) ? number(map.get(key), prefix + key) : otherwise;
  }

  /** An integral number in [min, max] (JSON sends 200 as 200.0). */
  public static int integer(Object value, String field, int min, int max) {
    double v = number(value, field);
    if (v != Math.rint(v) || v < min || v > max) {
      throw new IllegalArgumentException(field + ": expected an integer in [" + min + ", " + max
          + "], got " + v);
    }
    return (int) v;
  }

  public static boolean bool(Object value, String field) {
    if (!(value instanceof Boolean b)) {
      throw new IllegalArgumentException(field + ": expected true or false, got "
          + describe(value));
    }
    return b;
  }

  /** A list of finite numbers. */
  public static double[] vector(Object value, String field) {
    if (value instanceof double[] a) {
      for (int i = 0; i < a.length; i++) {
        number(a[i], field + "[" + i + "]");
      }
      return a.clone();
    }
    if (!(value instanceof List<?> list)) {
      throw new IllegalArgumentException(field + ": expected a list of numbers, got "
          + describe(value));
    }
    double[] out = new double[list.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = number(list.get(i), field + "[" + i + "]");
    }
    return out;
  }

  /** A list of {@code length} finite numbers. */
  public static double[] vector(Object value, String field, int length) {
    double[] v = vector(value, field);
    if (v.length != length) {
      throw new IllegalArgumentException(field + ": expected " + length + " numbers, got "
          + v.length);
    }
    return v;
  }

  /** A rectangular matrix (list of equally long rows) of finite numbers, at least 1x1. */
  public static double[][] matrix(Object value, String field) {
    Object[] rows;
    if (value instanceof double[][] a) {
      rows = a;
    } else if (value instanceof List<?> list) {
      rows = list.toArray();
    } else {
      throw new IllegalArgumentException(field + ": expected a matrix (list of rows), got "
          + describe(value));
    }
    if (rows.length == 0) {
      throw new IllegalArgumentException(field + ": expected at least one row, got none");
    }
    double[][] out = new double[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      out[i] = vector(rows[i], field + "[" + i + "]");
      if (out[i].length == 0 || out[i].length != out[0].length) {
        throw new IllegalArgumentException(field + "[" + i + "]: expected " + out[0].length
            + " columns like row 0 (at least one), got " + out[i].length);
      }
    }
    return out;
  }

  /** A matrix with exactly the given number of rows and columns. */
  public static double[][] matrix(Object value, String field, int rows, int cols) {
    double[][] m = matrix(value, field);
    if (m.length != rows || m[0].length != cols) {
      throw new IllegalArgumentException(field + ": expected a " + rows + "x" + cols
          + " matrix, got " + m.length + "x" + m[0].length);
    }
    return m;
  }

  /** A list of integral numbers, each in [min, max]. */
  public static int[] integers(Object value, String field, int min, int max) {
    if (value instanceof int[] a) {
      value = java.util.Arrays.stream(a).boxed().toList();
    }
    if (!(value instanceof List<?> list)) {
      throw new IllegalArgumentException(field + ": expected a list of integers, got "
          + describe(value));
    }
    int[] out = new int[list.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = integer(list.get(i), field + "[" + i + "]", min, max);
    }
    return out;
  }

  static String describe(Object value) {
    if (value == null) {
      return "null";
    }
    String text = String.valueOf(value);
    if (text.length() > 60) {
      text = text.substring(0, 57) + "...";
    }
    return value.getClass().getSimpleName() + " " + text;
  }
}
