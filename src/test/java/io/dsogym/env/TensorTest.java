package io.dsogym.env;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class TensorTest {

  /** Integer values at the edges of each dtype's range, and what getLong reads back. */
  private static long[][] integerCases(DType dtype) {
    return switch (dtype) {
      case INT8 -> new long[][] {{-128, -128}, {127, 127}, {-1, -1}, {0, 0}};
      case UINT8 -> new long[][] {{0, 0}, {255, 255}, {-1, 255}};
      case INT16 -> new long[][] {{-32768, -32768}, {32767, 32767}, {-1, -1}};
      case UINT16 -> new long[][] {{65535, 65535}, {-1, 65535}, {1, 1}};
      case INT32 -> new long[][] {{Integer.MIN_VALUE, Integer.MIN_VALUE},
          {Integer.MAX_VALUE, Integer.MAX_VALUE}};
      case UINT32 -> new long[][] {{4294967295L, 4294967295L}, {-1, 4294967295L}};
      case INT64 -> new long[][] {{Long.MIN_VALUE, Long.MIN_VALUE},
          {Long.MAX_VALUE, Long.MAX_VALUE}};
      // UINT64 reads as the two's complement long
      case UINT64 -> new long[][] {{-1, -1}, {Long.MAX_VALUE, Long.MAX_VALUE}};
      case BOOL -> new long[][] {{0, 0}, {1, 1}, {7, 1}};
      case FLOAT32 -> new long[][] {{16777216, 16777216}, {-3, -3}};
      case FLOAT64 -> new long[][] {{1L << 53, 1L << 53}, {-3, -3}};
    };
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void integerAccessorsRoundTrip(DType dtype) {
    long[][] cases = integerCases(dtype);
    Tensor t = Tensor.zeros(dtype, 2, cases.length);
    assertEquals(2 * cases.length, t.size());
    for (int i = 0; i < cases.length; i++) {
      t.setLong(i, cases[i][0]);
    }
    for (int i = 0; i < cases.length; i++) {
      assertEquals(cases[i][1], t.getLong(i), dtype + " element " + i);
      assertEquals(0, t.getLong(cases.length + i), "untouched element stays zero");
    }
    assertEquals(2 * cases.length * dtype.itemSize, t.bytes().remaining());
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void doubleAccessorsRoundTripValuesTheDtypeHolds(DType dtype) {
    double[] values = switch (dtype) {
      case FLOAT32 -> new double[] {1.5, -0.25, Float.MAX_VALUE, Double.NaN,
          Double.NEGATIVE_INFINITY, -0.0};
      case FLOAT64 -> new double[] {0.1, -1e300, Double.MIN_VALUE, Double.NaN,
          Double.POSITIVE_INFINITY, -0.0};
      case INT8 -> new double[] {-128, 127, 0};
      case UINT8 -> new double[] {255, 0, 17};
      case INT16 -> new double[] {-32768, 32767};
      case UINT16 -> new double[] {65535, 1};
      case INT32 -> new double[] {-2147483648.0, 2147483647.0};
      case UINT32 -> new double[] {4294967295.0, 3};
      case INT64 -> new double[] {-9.223372036854776E18, 1e15};
      case UINT64 -> new double[] {1.8446744073709550E19, 9.223372036854776E18, 5};
      case BOOL -> new double[] {1, 0};
    };
    Tensor t = Tensor.of(dtype, new int[] {values.length}, values);
    for (int i = 0; i < values.length; i++) {
      assertEquals(values[i], t.getDouble(i), 0.0, dtype + " element " + i);
      if (!Double.isNaN(values[i])) {
        assertEquals(values[i] != 0, t.getBoolean(i));
      }
    }
    Tensor copy = Tensor.wrap(dtype, t.shape(), t.bytes());
    assertEquals(t, copy, "wrap of the bytes is the same tensor");
    assertArrayEquals(values, copy.toDoubleArray(), 0.0);
  }

  @Test
  void floatAccessorsConvertAsNumpyAstype() {
    Tensor f = Tensor.zeros(DType.FLOAT32, 1);
    f.setDouble(0, 0.1);
    assertEquals((double) 0.1f, f.getDouble(0), 0.0, "rounded to float32");
    Tensor i = Tensor.zeros(DType.INT32, 2);
    i.setDouble(0, 2.9);
    i.setDouble(1, -2.9);
    assertEquals(2, i.getLong(0), "truncated toward zero");
    assertEquals(-2, i.getLong(1));
    Tensor b = Tensor.zeros(DType.BOOL, 1);
    b.setDouble(0, 0.5);
    assertTrue(b.getBoolean(0));
  }

  @Test
  void bytesAreLittleEndianInCOrder() {
    Tensor t = Tensor.ofInt64(new int[] {2, 2}, new long[] {1, 2, 3, 0x0102030405060708L});
    ByteBuffer b = t.bytes();
    assertEquals(ByteOrder.LITTLE_ENDIAN, b.order());
    assertEquals(1, b.get(0));
    assertEquals(2, b.get(8));
    assertEquals(0x08, b.get(24));
    assertEquals(0x01, b.get(31));
    Tensor f = Tensor.ofFloat32(new int[] {1}, new float[] {1.0f});
    // 1.0f = 0x3F800000, least significant byte first
    assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3F}, toArray(f.bytes()));
  }

  @Test
  void wrapChecksTheByteCount() {
    ByteBuffer seven = ByteBuffer.allocate(7);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Tensor.wrap(DType.FLOAT64, new int[] {1}, seven));
    assertTrue(e.getMessage().contains("expected 8 bytes"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(DType.INT8, 2, -1));
    assertThrows(IllegalArgumentException.class,
        () -> Tensor.ofFloat64(new int[] {3}, new double[] {1, 2}));
  }

  @Test
  void wrapReadsABigEndianBufferAsLittleEndian() {
    ByteBuffer raw = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 258);
    raw.order(ByteOrder.BIG_ENDIAN);
    assertEquals(258, Tensor.wrap(DType.INT32, new int[0], raw).getLong(0));
  }

  @Test
  void laneAndSliceAreViewsAndCopyIsNot() {
    Tensor t = Tensor.ofFloat64(new int[] {3, 2}, new double[] {0, 1, 2, 3, 4, 5});
    Tensor lane = t.lane(1);
    assertArrayEquals(new int[] {2}, lane.shape());
    assertArrayEquals(new double[] {2, 3}, lane.toDoubleArray(), 0.0);
    Tensor copy = t.copy();
    t.setDouble(2, 20);
    assertEquals(20, lane.getDouble(0), "a lane is a view");
    assertEquals(2, copy.getDouble(2), "a copy has its own storage");
    assertThrows(IllegalArgumentException.class, () -> t.lane(3));
    assertThrows(IllegalArgumentException.class, () -> Tensor.scalarInt64(1).lane(0));
    assertArrayEquals(new double[] {3, 4}, t.slice(3, 2, new int[] {2}).toDoubleArray(), 0.0);
    assertThrows(IllegalArgumentException.class, () -> t.slice(0, 3, new int[] {2}));
  }

  @Test
  void equalityIsDtypeShapeAndBytes() {
    Tensor a = Tensor.ofFloat64(new int[] {2}, new double[] {1, 2});
    assertEquals(a, Tensor.ofFloat64(new int[] {2}, new double[] {1, 2}));
    assertEquals(a.hashCode(), Tensor.ofFloat64(new int[] {2}, new double[] {1, 2}).hashCode());
    assertNotEquals(a, Tensor.ofFloat64(new int[] {1, 2}, new double[] {1, 2}));
    assertNotEquals(a, Tensor.of(DType.FLOAT32, new int[] {2}, new double[] {1, 2}));
    assertNotEquals(a, Tensor.ofFloat64(new int[] {2}, new double[] {1, 3}));
    assertFalse(a.equals(null));
  }

  @Test
  void shapeIsDefensivelyCopied() {
    int[] shape = {2};
    Tensor t = Tensor.zeros(DType.INT8, shape);
    shape[0] = 5;
    t.shape()[0] = 7;
    assertArrayEquals(new int[] {2}, t.shape());
  }

  @Test
  void stackAndLaneRoundTripTensors() {
    Tensor a = Tensor.ofInt64(new int[] {2}, new long[] {1, 2});
    Tensor b = Tensor.ofInt64(new int[] {2}, new long[] {3, 4});
    Tensor s = (Tensor) Spaces.stack(List.of(a, b));
    assertArrayEquals(new int[] {2, 2}, s.shape());
    assertEquals(2, Spaces.batchSize(s));
    assertEquals(a, Spaces.lane(s, 0));
    assertEquals(b, Spaces.lane(s, 1));
    assertThrows(IllegalArgumentException.class,
        () -> Spaces.stack(List.of(a, Tensor.ofInt64(new int[] {3}, new long[] {1, 2, 3}))));
    assertThrows(IllegalArgumentException.class,
        () -> Spaces.stack(List.of(a, Tensor.ofFloat64(new int[] {2}, new double[] {1, 2}))));
    assertThrows(IllegalArgumentException.class, () -> Spaces.stack(List.of()));
  }

  private static byte[] toArray(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }
}
