package io.dsogym.env;

/** Element type of a {@link Tensor}; names and sizes follow numpy. */
public enum DType {
  FLOAT32(4, true),
  FLOAT64(8, true),
  INT8(1, false),
  INT16(2, false),
  INT32(4, false),
  INT64(8, false),
  UINT8(1, false),
  UINT16(2, false),
  UINT32(4, false),
  UINT64(8, false),
  BOOL(1, false);

  /** Bytes per element. */
  public final int itemSize;
  /** Whether the type is a floating-point type (may hold NaN and infinities). */
  public final boolean floating;

  DType(int itemSize, boolean floating) {
    this.itemSize = itemSize;
    this.floating = floating;
  }

  /** numpy's name for the type, used in error messages ("float32", "int64", ...). */
  public String numpyName() {
    return this == BOOL ? "bool" : name().toLowerCase(java.util.Locale.ROOT);
  }
}
