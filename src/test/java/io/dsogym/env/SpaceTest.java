package io.dsogym.env;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SpaceTest {

  private static final double INF = Double.POSITIVE_INFINITY;

  private static final Space.Box BOX = new Space.Box(DType.FLOAT32, new int[] {2},
      new double[] {-1, 0}, new double[] {1, 10});
  private static final Space.Dict DICT = new Space.Dict(orderedMap(
      "pos", BOX,
      "mode", new Space.Discrete(3, -1),
      "flags", new Space.MultiBinary(new int[] {2})));
  private static final Space.Tuple TUPLE = new Space.Tuple(List.of(
      new Space.MultiDiscrete(new int[] {2}, new long[] {2, 5}, new long[] {0, 10}),
      DICT));

  private static Map<String, Space> orderedMap(Object... kv) {
    Map<String, Space> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], (Space) kv[i + 1]);
    }
    return m;
  }

  private static void assertRejected(Space space, Value v, String... fragments) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> space.check(v, "obs"));
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
    }
    assertFalse(space.contains(v));
  }

  private static Tensor f32(float... v) {
    return Tensor.ofFloat32(new int[] {v.length}, v);
  }

  @Test
  void boxAcceptsMembersAndRejectsEverythingElse() {
    BOX.check(f32(-1, 10), "obs");
    BOX.check(Tensor.ofFloat64(new int[] {2}, new double[] {0.5, 3}), "obs");
    assertTrue(BOX.contains(f32(1, 0)));
    assertRejected(BOX, Tensor.ofBool(new int[] {2}, new boolean[] {true, false}), "obs",
        "bool");
    assertRejected(BOX, f32(0, 0, 0), "obs", "shape [2]", "[3]");
    assertRejected(BOX, Tensor.ofFloat32(new int[] {1, 2}, new float[] {0, 0}), "obs",
        "shape");
    assertRejected(BOX, f32(1.5f, 0), "obs[0]", "1.5");
    assertRejected(BOX, f32(0, -0.001f), "obs[1]");
    assertRejected(BOX, f32(Float.NaN, 0), "obs[0]", "finite", "NaN");
    assertRejected(BOX, f32(0, Float.POSITIVE_INFINITY), "obs[1]", "finite", "Infinity");
    assertRejected(BOX, Tensor.scalarInt64(0), "obs", "shape");
    assertRejected(BOX, new TupleValue(List.of(f32(0, 0))), "obs", "tensor");
  }

  @Test
  void unboundedBoxStillRejectsNonFiniteValues() {
    Space.Box box = Space.Box.uniform(DType.FLOAT64, new int[] {1}, -INF, INF);
    box.check(Tensor.ofFloat64(new int[] {1}, new double[] {1e300}), "x");
    assertRejected(box, Tensor.ofFloat64(new int[] {1}, new double[] {INF}), "obs[0]");
    assertRejected(box, Tensor.ofFloat64(new int[] {1}, new double[] {Double.NaN}), "obs[0]");
  }

  @Test
  void integerBoxRejectsFloatTensors() {
    Space.Box box = Space.Box.uniform(DType.INT16, new int[] {2}, 0, 3);
    box.check(Tensor.ofInt64(new int[] {2}, new long[] {0, 3}), "obs");
    assertRejected(box, Tensor.ofFloat64(new int[] {2}, new double[] {0, 3}), "obs",
        "integer dtype int16", "float64");
    assertRejected(box, Tensor.ofInt64(new int[] {2}, new long[] {0, 4}), "obs[1]");
  }

  @Test
  void boxConstructorValidatesBounds() {
    assertThrows(IllegalArgumentException.class, () -> new Space.Box(DType.FLOAT64,
        new int[] {2}, new double[] {0}, new double[] {1, 1}));
    assertThrows(IllegalArgumentException.class, () -> new Space.Box(DType.FLOAT64,
        new int[] {1}, new double[] {2}, new double[] {1}));
    assertThrows(IllegalArgumentException.class, () -> new Space.Box(DType.FLOAT64,
        new int[] {1}, new double[] {Double.NaN}, new double[] {1}));
    assertThrows(IllegalArgumentException.class,
        () -> Space.Box.uniform(DType.BOOL, new int[] {1}, 0, 1));
  }

  @Test
  void float32BoxBoundsAreRoundedLikeGymnasium() {
    // np.float32(4.8) == 4.800000190734863: the float32 observation 4.8f is in the box.
    Space.Box box = Space.Box.uniform(DType.FLOAT32, new int[] {1}, -4.8, 4.8);
    assertEquals(4.800000190734863, box.high()[0], 0.0);
    box.check(f32(4.8f), "obs");
    box.check(f32(-4.8f), "obs");
    // A box narrower than float32 spacing: every sample rounds onto a bound and must stay in.
    Space.Box narrow = Space.Box.uniform(DType.FLOAT32, new int[] {1}, 0.1, 0.1 + 1e-9);
    SplittableRandom rng = new SplittableRandom(1);
    for (int i = 0; i < 100; i++) {
      narrow.check(narrow.sample(rng), "sample " + i);
    }
  }

  @Test
  void discreteHonoursStart() {
    Space.Discrete d = new Space.Discrete(3, -1);
    d.check(Tensor.scalarInt64(-1), "a");
    d.check(Tensor.scalarInt64(1), "a");
    assertRejected(d, Tensor.scalarInt64(2), "obs", "[-1, 1]", "got 2");
    assertRejected(d, Tensor.scalarInt64(-2), "obs");
    assertRejected(d, Tensor.ofFloat64(new int[0], new double[] {0}), "obs", "integer",
        "float64");
    assertRejected(d, Tensor.ofInt64(new int[] {1}, new long[] {0}), "obs", "shape");
    assertThrows(IllegalArgumentException.class, () -> new Space.Discrete(0));
  }

  @Test
  void multiDiscreteAndMultiBinaryCheckEveryElement() {
    Space.MultiDiscrete md = (Space.MultiDiscrete) TUPLE.spaces().get(0);
    md.check(Tensor.ofInt64(new int[] {2}, new long[] {1, 14}), "a");
    assertRejected(md, Tensor.ofInt64(new int[] {2}, new long[] {1, 15}), "obs[1]", "[10, 14]");
    assertRejected(md, Tensor.ofInt64(new int[] {2}, new long[] {2, 10}), "obs[0]");
    Space.MultiBinary mb = new Space.MultiBinary(new int[] {2, 2});
    mb.check(Tensor.of(DType.INT8, new int[] {2, 2}, new double[] {0, 1, 1, 0}), "a");
    assertRejected(mb, Tensor.of(DType.INT8, new int[] {2, 2}, new double[] {0, 1, 2, 0}),
        "obs[1, 0]", "0 or 1");
    assertRejected(mb, Tensor.of(DType.FLOAT32, new int[] {2, 2}, new double[] {0, 1, 1, 0}),
        "obs", "integer");
  }

  @Test
  void dictAndTupleNameTheNestedField() {
    Value good = DICT.sample(new SplittableRandom(3));
    DICT.check(good, "obs");
    Map<String, Value> bad = new LinkedHashMap<>(((DictValue) good).entries());
    bad.put("mode", Tensor.scalarInt64(7));
    assertRejected(DICT, new DictValue(bad), "obs.mode", "got 7");
    bad.remove("mode");
    assertRejected(DICT, new DictValue(bad), "obs", "keys");
    assertRejected(DICT, f32(0, 0), "obs", "dict");

    Value tuple = TUPLE.sample(new SplittableRandom(3));
    TUPLE.check(tuple, "obs");
    List<Value> items = new ArrayList<>(((TupleValue) tuple).items());
    items.set(1, new DictValue(bad));
    assertRejected(TUPLE, new TupleValue(items), "obs[1]", "keys");
    assertRejected(TUPLE, new TupleValue(items.subList(0, 1)), "obs", "2 items");
  }

  @Test
  void samplesLieInsideTheirSpace() {
    List<Space> spaces = List.of(BOX, DICT, TUPLE,
        Space.Box.uniform(DType.FLOAT64, new int[] {3}, -INF, INF),
        new Space.Box(DType.FLOAT32, new int[] {2}, new double[] {0, -INF},
            new double[] {INF, 0}),
        Space.Box.uniform(DType.INT32, new int[] {2, 2}, -3, 3),
        Space.Box.uniform(DType.UINT8, new int[] {1}, 0, 255),
        new Space.Discrete(1, 5));
    SplittableRandom rng = new SplittableRandom(11);
    for (Space space : spaces) {
      for (int i = 0; i < 500; i++) {
        space.check(space.sample(rng), space + " sample " + i);
      }
    }
    // Integer boxes reach both bounds.
    Space.Box small = Space.Box.uniform(DType.INT64, new int[] {1}, -1, 1);
    boolean[] seen = new boolean[3];
    for (int i = 0; i < 200; i++) {
      seen[(int) ((Tensor) small.sample(rng)).getLong(0) + 1] = true;
    }
    assertArrayEquals(new boolean[] {true, true, true}, seen);
  }

  @Test
  void samplingIsReproducibleFromTheSeed() {
    assertEquals(TUPLE.sample(new SplittableRandom(5)), TUPLE.sample(new SplittableRandom(5)));
  }

  @Test
  void stackAndLaneRoundTripDictAndTupleValues() {
    SplittableRandom rng = new SplittableRandom(8);
    for (Space space : List.of(DICT, TUPLE)) {
      List<Value> lanes = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        lanes.add(space.sample(rng));
      }
      Value batch = Spaces.stack(lanes);
      assertEquals(4, Spaces.batchSize(batch));
      space.checkBatch(batch, 4, "batch");
      assertThrows(IllegalArgumentException.class, () -> space.checkBatch(batch, 3, "batch"));
      assertThrows(IllegalArgumentException.class, () -> space.check(batch, "batch"));
      for (int i = 0; i < 4; i++) {
        assertEquals(lanes.get(i), Spaces.lane(batch, i), space + " lane " + i);
      }
    }
    // Lanes of different structure cannot be stacked.
    Value d = DICT.sample(rng);
    Value t = TUPLE.sample(rng);
    assertThrows(IllegalArgumentException.class, () -> Spaces.stack(List.of(d, t)));
    assertThrows(IllegalArgumentException.class, () -> Spaces.stack(List.of(t, d)));
  }

  @Test
  void checkBatchNamesTheLaneElement() {
    Tensor batch = Tensor.ofFloat32(new int[] {3, 2}, new float[] {0, 0, 0, 0, 0, 11});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BOX.checkBatch(batch, 3, "actions"));
    assertTrue(e.getMessage().startsWith("actions[2, 1]"), e.getMessage());
  }
}
