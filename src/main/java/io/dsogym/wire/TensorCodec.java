package io.dsogym.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.dsogym.env.DType;
import io.dsogym.env.Tensor;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * {@link Tensor} <-> wire {@code dsogym.v1.Tensor}. Both sides hold the same packed
 * little-endian bytes, so decoding wraps the message's bytes without copying (the decoded
 * tensor is read-only) and encoding copies them once.
 */
public final class TensorCodec {
  private TensorCodec() {}

  public static io.dsogym.wire.v1.Tensor encode(Tensor t) {
    io.dsogym.wire.v1.Tensor.Builder b = io.dsogym.wire.v1.Tensor.newBuilder()
        .setDtype(encode(t.dtype()));
    for (int i = 0; i < t.rank(); i++) {
      b.addShape(t.dim(i));
    }
    // Tensors are immutable once sent; copying here keeps a later write to t out of the message.
    return b.setData(ByteString.copyFrom(t.bytes())).build();
  }

  /**
   * Encodes without copying the bytes: only for a tensor that nobody writes to afterwards
   * (e.g. a fresh result about to be sent).
   */
  public static io.dsogym.wire.v1.Tensor encodeUnsafe(Tensor t) {
    io.dsogym.wire.v1.Tensor.Builder b = io.dsogym.wire.v1.Tensor.newBuilder()
        .setDtype(encode(t.dtype()));
    for (int i = 0; i < t.rank(); i++) {
      b.addShape(t.dim(i));
    }
    return b.setData(UnsafeByteOperations.unsafeWrap(t.bytes())).build();
  }

  /**
   * Decodes and validates a wire tensor.
   *
   * @param field the wire field, named in errors (e.g. "step.actions")
   * @throws IllegalArgumentException for an unspecified or unknown dtype, a negative or too
   *     large dimension, or a byte length other than prod(shape) * itemsize
   */
  public static Tensor decode(io.dsogym.wire.v1.Tensor t, String field) {
    DType dtype = decode(t.getDtype(), field + ".dtype");
    int rank = t.getShapeCount();
    int[] shape = new int[rank];
    long size = 1;
    for (int i = 0; i < rank; i++) {
      long d = t.getShape(i);
      if (d < 0) {
        throw new IllegalArgumentException(field + ".shape[" + i + "]: expected a dimension >= 0,"
            + " got " + d + " (shape " + t.getShapeList() + ")");
      }
      if (d > Integer.MAX_VALUE || (size *= d) > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(field + ".shape: expected at most "
            + Integer.MAX_VALUE + " elements, got shape " + t.getShapeList());
      }
      shape[i] = (int) d;
    }
    long expected = size * dtype.itemSize;
    ByteString data = t.getData();
    if (data.size() != expected) {
      throw new IllegalArgumentException(field + ".data: expected " + expected + " bytes for "
          + dtype.numpyName() + Arrays.toString(shape) + ", got " + data.size());
    }
    ByteBuffer buf = data.asReadOnlyByteBuffer();
    return Tensor.wrap(dtype, shape, buf);
  }

  public static io.dsogym.wire.v1.DType encode(DType dtype) {
    return switch (dtype) {
      case FLOAT32 -> io.dsogym.wire.v1.DType.FLOAT32;
      case FLOAT64 -> io.dsogym.wire.v1.DType.FLOAT64;
      case INT8 -> io.dsogym.wire.v1.DType.INT8;
      case INT16 -> io.dsogym.wire.v1.DType.INT16;
      case INT32 -> io.dsogym.wire.v1.DType.INT32;
      case INT64 -> io.dsogym.wire.v1.DType.INT64;
      case UINT8 -> io.dsogym.wire.v1.DType.UINT8;
      case UINT16 -> io.dsogym.wire.v1.DType.UINT16;
      case UINT32 -> io.dsogym.wire.v1.DType.UINT32;
      case UINT64 -> io.dsogym.wire.v1.DType.UINT64;
      case BOOL -> io.dsogym.wire.v1.DType.BOOL;
    };
  }

  /** The domain dtype; UNSPECIFIED and unknown numbers are rejected naming the field. */
  public static DType decode(io.dsogym.wire.v1.DType dtype, String field) {
    switch (dtype) {
      case FLOAT32: return DType.FLOAT32;
      case FLOAT64: return DType.FLOAT64;
      case INT8: return DType.INT8;
      case INT16: return DType.INT16;
      case INT32: return DType.INT32;
      case INT64: return DType.INT64;
      case UINT8: return DType.UINT8;
      case UINT16: return DType.UINT16;
      case UINT32: return DType.UINT32;
      case UINT64: return DType.UINT64;
      case BOOL: return DType.BOOL;
      case DTYPE_UNSPECIFIED:
        throw new IllegalArgumentException(field + ": expected one of " + knownDtypes()
            + ", got DTYPE_UNSPECIFIED");
      default:
        throw new IllegalArgumentException(field + ": expected one of " + knownDtypes()
            + ", got an unknown dtype number");
    }
  }

  private static String knownDtypes() {
    return Arrays.toString(DType.values());
  }
}
