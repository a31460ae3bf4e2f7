package io.dsogym.server;

import java.util.List;
import java.util.Map;

/** Checks of request sizes against {@link ServerLimits}; each failure names the limit. */
final class RequestLimits {
  private RequestLimits() {}

  /** JSON text (kwargs, reset options) within --max-kwargs-bytes, checked before parsing. */
  static void checkJsonBytes(int bytes, String field, ServerLimits limits) {
    if (bytes > limits.maxKwargsBytes()) {
      throw new IllegalArgumentException(field + ": expected at most " + limits.maxKwargsBytes()
          + " bytes (limit --max-kwargs-bytes), got " + bytes);
    }
  }

  /**
   * Every list in parsed JSON, at any depth, within --max-matrix-dim items: a matrix's rows
   * and columns (LQR's A is n x n, so n is bounded too).
   */
  static void checkLists(Object value, String field, ServerLimits limits) {
    if (value instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        checkLists(e.getValue(), field + "." + e.getKey(), limits);
      }
    } else if (value instanceof List<?> list) {
      if (list.size() > limits.maxMatrixDim()) {
        throw new IllegalArgumentException(field + ": expected a list (matrix rows or columns) "
            + "of at most " + limits.maxMatrixDim() + " items (limit --max-matrix-dim), got "
            + list.size());
      }
      for (int i = 0; i < list.size(); i++) {
        Object item = list.get(i);
        if (item instanceof List<?> || item instanceof Map<?, ?>) {
          checkLists(item, field + "[" + i + "]", limits);
        }
      }
    }
  }
}
