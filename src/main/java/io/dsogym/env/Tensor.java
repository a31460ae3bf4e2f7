package io.dsogym.env;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense n-dimensional array in C order, stored as little-endian bytes exactly as it travels
 * on the wire, so a tensor is decoded from a message without a copy and encoded with one.
 * Element accessors convert on the fly; integer values read through {@link #getLong} are
 * exact for every dtype (UINT64 reads as the two's complement long).
 */
public final class Tensor implements Value {
  private final DType dtype;
  private final int[] shape;
  private final int size;
  private final ByteBuffer data;

  private Tensor(DType dtype, int[] shape, ByteBuffer data) {
    this.dtype = dtype;
    this.shape = shape;
    this.size = sizeOf(shape);
    this.data = data.order(ByteOrder.LITTLE_ENDIAN);
  }

  /**
   * Wraps little-endian bytes; the buffer's remaining bytes must hold exactly the elements.
   *
   * @throws IllegalArgumentException when the byte count does not match dtype and shape
   */
  public static Tensor wrap(DType dtype, int[] shape, ByteBuffer littleEndianBytes) {
    int[] s = shape.clone();
    long expected = (long) sizeOf(s) * dtype.itemSize;
    if (littleEndianBytes.remaining() != expected) {
      throw new IllegalArgumentException("tensor data: expected " + expected + " bytes for "
          + dtype.numpyName() + Arrays.toString(s) + ", got " + littleEndianBytes.remaining());
    }
    return new Tensor(dtype, s, littleEndianBytes.slice());
  }

  /** A zero-filled tensor. */
  public static Tensor zeros(DType dtype, int... shape) {
    int[] s = shape.clone();
    return new Tensor(dtype, s, ByteBuffer.allocate(sizeOf(s) * dtype.itemSize));
  }

  /** A tensor of the given dtype holding {@code values} (converted element-wise). */
  public static Tensor of(DType dtype, int[] shape, double[] values) {
    Tensor t = zeros(dtype, shape);
    requireLength(t.size, values.length);
    for (int i = 0; i < values.length; i++) {
      t.setDouble(i, values[i]);
    }
    return t;
  }

  public static Tensor ofFloat32(int[] shape, float[] values) {
    Tensor t = zeros(DType.FLOAT32, shape);
    requireLength(t.size, values.length);
    for (int i = 0; i < values.length; i++) {
      t.data.putFloat(i * 4, values[i]);
    }
    return t;
  }

  public static Tensor ofFloat64(int[] shape, double[] values) {
    return of(DType.FLOAT64, shape, values);
  }

  public static Tensor ofInt64(int[] shape, long[] values) {
    Tensor t = zeros(DType.INT64, shape);
    requireLength(t.size, values.length);
    for (int i = 0; i < values.length; i++) {
      t.data.putLong(i * 8, values[i]);
    }
    return t;
  }

  public static Tensor ofBool(int[] shape, boolean[] values) {
    Tensor t = zeros(DType.BOOL, shape);
    requireLength(t.size, values.length);
    for (int i = 0; i < values.length; i++) {
      t.data.put(i, (byte) (values[i] ? 1 : 0));
    }
    return t;
  }

  /** A 0-d int64 tensor: the value of a Discrete space. */
  public static Tensor scalarInt64(long value) {
    return ofInt64(new int[0], new long[] {value});
  }

  public DType dtype() {
    return dtype;
  }

  /** A copy of the shape. */
  public int[] shape() {
    return shape.clone();
  }

  public int rank() {
    return shape.length;
  }

  public int dim(int axis) {
    return shape[axis];
  }

  /** Number of elements. */
  public int size() {
    return size;
  }

  /** A read-only little-endian view of the packed elements. */
  public ByteBuffer bytes() {
    return data.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN).rewind();
  }

  public double getDouble(int i) {
    return switch (dtype) {
      case FLOAT32 -> data.getFloat(i * 4);
      case FLOAT64 -> data.getDouble(i * 8);
      case UINT64 -> {
        long v = data.getLong(i * 8);
        yield v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
      }
      default -> getLong(i);
    };
  }

  public long getLong(int i) {
    return switch (dtype) {
      case FLOAT32 -> (long) data.getFloat(i * 4);
      case FLOAT64 -> (long) data.getDouble(i * 8);
      case INT8 -> data.get(i);
      case INT16 -> data.getShort(i * 2);
      case INT32 -> data.getInt(i * 4);
      case INT64, UINT64 -> data.getLong(i * 8);
      case UINT8, BOOL -> data.get(i) & 0xFFL;
      case UINT16 -> data.getShort(i * 2) & 0xFFFFL;
      case UINT32 -> data.getInt(i * 4) & 0xFFFFFFFFL;
    };
  }

  public boolean getBoolean(int i) {
    return dtype == DType.BOOL ? data.get(i) != 0 : getDouble(i) != 0.0;
  }

  /** Writes element i, converting (and for integer types truncating) as numpy's astype does. */
  public void setDouble(int i, double v) {
    switch (dtype) {
      case FLOAT32 -> data.putFloat(i * 4, (float) v);
      case FLOAT64 -> data.putDouble(i * 8, v);
      case BOOL -> data.put(i, (byte) (v != 0.0 ? 1 : 0));
      // (long) saturates at 2^63 - 1: values in [2^63, 2^64) go through the two's complement.
      case UINT64 -> setLong(i, v >= 0x1p63 ? (long) (v - 0x1p63) + Long.MIN_VALUE : (long) v);
      default -> setLong(i, (long) v);
    }
  }

  public void setLong(int i, long v) {
    switch (dtype) {
      case FLOAT32 -> data.putFloat(i * 4, (float) v);
      case FLOAT64 -> data.putDouble(i * 8, (double) v);
      case INT8, UINT8 -> data.put(i, (byte) v);
      case BOOL -> data.put(i, (byte) (v != 0 ? 1 : 0));
      case INT16, UINT16 -> data.putShort(i * 2, (short) v);
      case INT32, UINT32 -> data.putInt(i * 4, (int) v);
      case INT64, UINT64 -> data.putLong(i * 8, v);
    }
  }

  /** Copies the elements, converted to double, into {@code out[offset..offset+size)}. */
  public void copyTo(double[] out, int offset) {
    // bulk paths for the float dtypes: batches of observations go through here every step
    if (dtype == DType.FLOAT64) {
      bytes().asDoubleBuffer().get(out, offset, size);
      return;
    }
    if (dtype == DType.FLOAT32) {
      java.nio.FloatBuffer f = bytes().asFloatBuffer();
      for (int i = 0; i < size; i++) {
        out[offset + i] = f.get(i);
      }
      return;
    }
    for (int i = 0; i < size; i++) {
      out[offset + i] = getDouble(i);
    }
  }

  public double[] toDoubleArray() {
    double[] out = new double[size];
    copyTo(out, 0);
    return out;
  }

  /** Elements [from, from+count) of the flattened array as a new tensor of the given shape. */
  public Tensor slice(int from, int count, int[] newShape) {
    if (sizeOf(newShape) != count) {
      throw new IllegalArgumentException("slice shape " + Arrays.toString(newShape)
          + " does not hold " + count + " elements");
    }
    ByteBuffer b = data.duplicate();
    b.position(from * dtype.itemSize).limit((from + count) * dtype.itemSize);
    return new Tensor(dtype, newShape.clone(), b.slice());
  }

  /** Lane {@code lane} of a batched tensor [N, ...]: a view of shape [...]. */
  public Tensor lane(int lane) {
    if (shape.length == 0 || lane < 0 || lane >= shape[0]) {
      throw new IllegalArgumentException("lane " + lane + " outside batched tensor of shape "
          + Arrays.toString(shape));
    }
    int[] inner = Arrays.copyOfRange(shape, 1, shape.length);
    int per = sizeOf(inner);
    return slice(lane * per, per, inner);
  }

  /** A writable little-endian view positioned at element 0 (for filling a new tensor). */
  ByteBuffer bytesForWrite() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN).rewind();
  }

  /** A deep copy with its own storage. */
  public Tensor copy() {
    ByteBuffer b = ByteBuffer.allocate(size * dtype.itemSize);
    b.put(bytes());
    b.flip();
    return new Tensor(dtype, shape.clone(), b);
  }

  public static int sizeOf(int[] shape) {
    long n = 1;
    for (int d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("shape " + Arrays.toString(shape)
            + ": dimensions must be >= 0");
      }
      n *= d;
      if (n > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " is too large");
      }
    }
    return (int) n;
  }

  private static void requireLength(int expected, int actual) {
    if (expected != actual) {
      throw new IllegalArgumentException("tensor values: expected " + expected
          + " elements for the shape, got " + actual);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Tensor t && t.dtype == dtype && Arrays.equals(t.shape, shape)
        && t.bytes().equals(bytes());
  }

  @Override
  public int hashCode() {
    return 31 * dtype.hashCode() + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Tensor(").append(dtype.numpyName())
        .append(Arrays.toString(shape)).append(", [");
    for (int i = 0; i < Math.min(size, 8); i++) {
      sb.append(i == 0 ? "" : ", ").append(dtype.floating ? getDouble(i) : getLong(i));
    }
    return sb.append(size > 8 ? ", ...])" : "])").toString();
  }
}
