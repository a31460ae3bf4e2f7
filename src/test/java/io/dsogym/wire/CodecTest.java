package io.dsogym.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.dsogym.env.AutoresetMode;
import io.dsogym.env.DType;
import io.dsogym.env.DictValue;
import io.dsogym.envs.EnvRegistry;
import io.dsogym.env.EnvSpec;
import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.env.TupleValue;
import io.dsogym.env.Value;
import io.dsogym.wire.v1.Error;
import io.grpc.Status;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class CodecTest {

  @ParameterizedTest
  @EnumSource(DType.class)
  void everyDtypeRoundTripsWithItsBytes(DType dtype) {
    Tensor t = Tensor.zeros(dtype, 2, 3);
    for (int i = 0; i < t.size(); i++) {
      t.setLong(i, dtype == DType.BOOL ? i % 2 : i * 7 - 5);
    }
    io.dsogym.wire.v1.Tensor wire = TensorCodec.encode(t);
    assertEquals(6L * dtype.itemSize, wire.getData().size());
    assertEquals(List.of(2L, 3L), wire.getShapeList());
    Tensor back = TensorCodec.decode(wire, "t");
    assertEquals(t, back);
    assertEquals(dtype, back.dtype());
    // through real serialization too
    Tensor parsed = TensorCodec.decode(parse(wire), "t");
    assertEquals(t, parsed);
  }

  @Test
  void scalarsAndEmptyTensorsRoundTrip() {
    Tensor scalar = Tensor.scalarInt64(42);
    assertEquals(scalar, TensorCodec.decode(TensorCodec.encode(scalar), "s"));
    Tensor empty = Tensor.zeros(DType.FLOAT32, 0, 4);
    assertEquals(empty, TensorCodec.decode(TensorCodec.encode(empty), "e"));
  }

  @Test
  void decodingIsLittleEndianAndCopyFree() {
    io.dsogym.wire.v1.Tensor wire = io.dsogym.wire.v1.Tensor.newBuilder()
        .setDtype(io.dsogym.wire.v1.DType.INT32).addShape(1)
        .setData(ByteString.copyFrom(new byte[] {1, 2, 0, 0})).build();
    Tensor t = TensorCodec.decode(wire, "t");
    assertEquals(0x0201, t.getLong(0));
    assertTrue(t.bytes().isReadOnly());
  }

  @Test
  void malformedTensorsAreRejectedNamingFieldExpectedAndActual() {
    io.dsogym.wire.v1.Tensor.Builder good = io.dsogym.wire.v1.Tensor.newBuilder()
        .setDtype(io.dsogym.wire.v1.DType.FLOAT32).addShape(2)
        .setData(ByteString.copyFrom(new byte[8]));
    TensorCodec.decode(good.build(), "ok");

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TensorCodec.decode(good.clone().setData(ByteString.copyFrom(new byte[7])).build(),
            "step.actions"));
    assertEquals("step.actions.data: expected 8 bytes for float32[2], got 7", e.getMessage());

    e = assertThrows(IllegalArgumentException.class, () -> TensorCodec.decode(
        good.clone().setDtype(io.dsogym.wire.v1.DType.DTYPE_UNSPECIFIED).build(), "obs"));
    assertTrue(e.getMessage().startsWith("obs.dtype: expected one of"), e.getMessage());
    assertTrue(e.getMessage().endsWith("got DTYPE_UNSPECIFIED"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class, () -> TensorCodec.decode(
        good.clone().setDtypeValue(99).build(), "obs"));
    assertTrue(e.getMessage().contains("unknown dtype"), e.getMessage());

    e = assertThrows(IllegalArgumentException.class, () -> TensorCodec.decode(
        good.clone().clearShape().addShape(-2).build(), "mask"));
    assertEquals("mask.shape[0]: expected a dimension >= 0, got -2 (shape [-2])",
        e.getMessage());

    e = assertThrows(IllegalArgumentException.class, () -> TensorCodec.decode(
        good.clone().clearShape().addShape(1L << 20).addShape(1L << 20).build(), "big"));
    assertTrue(e.getMessage().startsWith("big.shape: expected at most"), e.getMessage());
  }

  static List<Space> everySpace() {
    Map<String, Space> dict = new LinkedHashMap<>();
    dict.put("position", Space.Box.uniform(DType.FLOAT64, new int[] {3}, -1, 1));
    dict.put("mode", new Space.Discrete(4, -1));
    return List.of(
        new Space.Box(DType.FLOAT32, new int[] {2}, new double[] {-4.8, Double.NEGATIVE_INFINITY},
            new double[] {4.8, Double.POSITIVE_INFINITY}),
        Space.Box.uniform(DType.UINT8, new int[] {2, 2, 3}, 0, 255),
        Space.Box.uniform(DType.INT64, new int[0], -10, 10),
        new Space.Discrete(2),
        new Space.Discrete(5, 3),
        new Space.MultiDiscrete(new int[] {2, 2}, new long[] {3, 4, 5, 6},
            new long[] {0, -1, 2, 0}),
        new Space.MultiBinary(new int[] {5}),
        new Space.Dict(dict),
        new Space.Tuple(List.of(new Space.Discrete(3), new Space.MultiBinary(new int[] {2, 2}),
            new Space.Dict(dict))));
  }

  @Test
  void everySpaceKindRoundTrips() {
    for (Space s : everySpace()) {
      io.dsogym.wire.v1.Space wire = SpaceCodec.encode(s);
      assertEquals(s, SpaceCodec.decode(wire, "space"), s.toString());
      assertEquals(s, SpaceCodec.decode(parse(wire), "space"), s.toString());
    }
    io.dsogym.wire.v1.Space box = SpaceCodec.encode(Space.Box.uniform(DType.FLOAT32,
        new int[] {2}, -1, 1));
    assertEquals(io.dsogym.wire.v1.DType.FLOAT32, box.getBox().getLow().getDtype());
    io.dsogym.wire.v1.Space md = SpaceCodec.encode(everySpace().get(5));
    assertEquals(io.dsogym.wire.v1.DType.INT64, md.getMultiDiscrete().getNvec().getDtype());
    assertEquals(List.of(2L, 2L), md.getMultiDiscrete().getStart().getShapeList());
  }

  @Test
  void everySpaceValueRoundTrips() {
    SplittableRandom rng = new SplittableRandom(3);
    for (Space s : everySpace()) {
      Value v = s.sample(rng);
      Value back = ValueCodec.decode(parse(ValueCodec.encode(v)), "v");
      assertEquals(v, back, s.toString());
      s.check(back, "v");
    }
  }

  @Test
  void malformedSpacesAreRejected() {
    io.dsogym.wire.v1.Space box = SpaceCodec.encode(Space.Box.uniform(DType.FLOAT32,
        new int[] {2}, -1, 1));
    io.dsogym.wire.v1.Space mixed = box.toBuilder().setBox(box.getBox().toBuilder()
        .setHigh(TensorCodec.encode(Tensor.ofFloat64(new int[] {2}, new double[] {1, 1}))))
        .build();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> SpaceCodec.decode(mixed, "hello.env.action_space"));
    assertTrue(e.getMessage().startsWith("hello.env.action_space.box.high: expected float32[2]"),
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SpaceCodec.decode(
        io.dsogym.wire.v1.Space.getDefaultInstance(), "obs"));
    assertTrue(e.getMessage().startsWith("obs: expected a box"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SpaceCodec.decode(
        io.dsogym.wire.v1.Space.newBuilder().setDiscrete(
            io.dsogym.wire.v1.DiscreteSpace.newBuilder().setN(0)).build(), "act"));
    assertEquals("act.discrete.n: expected > 0, got 0", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> ValueCodec.decode(
        io.dsogym.wire.v1.Value.getDefaultInstance(), "step.actions"));
    assertTrue(e.getMessage().startsWith("step.actions: expected a tensor"), e.getMessage());
  }

  @Test
  void envSpecsRoundTrip() {
    EnvSpec spec = new EnvSpec("Test-v0", everySpace().get(0), everySpace().get(7), 200, 195.0,
        Map.of("render_fps", "50"), "{\"gravity\":9.8}");
    assertEquals(spec, EnvSpecCodec.decode(parse(EnvSpecCodec.encode(spec)), "env"));
    EnvSpec noThreshold = new EnvSpec("T-v0", new Space.Discrete(3), new Space.Discrete(2), 0,
        null);
    EnvSpec back = EnvSpecCodec.decode(EnvSpecCodec.encode(noThreshold), "env");
    assertNull(back.rewardThreshold());
    assertEquals(noThreshold, back);
    for (String id : EnvRegistry.defaults().ids()) {
      EnvSpec native_ = EnvRegistry.defaults().spec(id);
      assertEquals(native_, EnvSpecCodec.decode(parse(EnvSpecCodec.encode(native_)), "env"), id);
    }
    for (AutoresetMode m : AutoresetMode.values()) {
      assertEquals(m, EnvSpecCodec.decode(EnvSpecCodec.encode(m), null, "mode"));
    }
    assertEquals(AutoresetMode.NEXT_STEP, EnvSpecCodec.decode(
        io.dsogym.wire.v1.AutoresetMode.AUTORESET_MODE_UNSPECIFIED, AutoresetMode.NEXT_STEP, "m"));
  }

  @Test
  void jsonObjectsParseAndNonObjectsAreRejected() {
    Map<String, Object> m = Json.parseObject(
        "{\"a\": 1, \"b\": 2.5, \"c\": [1, 2], \"d\": {\"e\": true}, \"f\": null, \"g\": \"x\"}",
        "kwargs_json");
    assertEquals(1L, m.get("a"));
    assertEquals(2.5, m.get("b"));
    assertEquals(List.of(1L, 2L), m.get("c"));
    assertEquals(Map.of("e", true), m.get("d"));
    assertTrue(m.containsKey("f"));
    assertEquals("x", m.get("g"));
    assertTrue(Json.parseObject("", "kwargs_json").isEmpty());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Json.parseObject("[1, 2]", "kwargs_json"));
    assertEquals("kwargs_json: expected a JSON object, got an array '[1, 2]'", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Json.parseObject("{oops", "kwargs_json"));
    assertTrue(e.getMessage().startsWith("kwargs_json: expected a JSON object, got '{oops'"),
        e.getMessage());
    assertEquals(Map.of("x", 1L), Json.parseObject(Json.toJson(Map.of("x", 1)), "o"));
  }

  @Test
  void statusMappingIsOnePlaceBothWays() {
    assertEquals(Status.Code.INVALID_ARGUMENT, StatusMapping.codeOf(new IllegalArgumentException()));
    assertEquals(Status.Code.FAILED_PRECONDITION, StatusMapping.codeOf(new IllegalStateException()));
    assertEquals(Status.Code.NOT_FOUND,
        StatusMapping.codeOf(new EnvRegistry.UnknownEnvException("env_id: nope")));
    assertEquals(Status.Code.INTERNAL, StatusMapping.codeOf(new ArithmeticException("x")));
    Error internal = StatusMapping.toError(new ArithmeticException("/ by zero"));
    assertEquals(Status.Code.INTERNAL.value(), internal.getCode());
    assertEquals("ArithmeticException", internal.getExceptionType());
    assertTrue(internal.getTraceback().contains("ArithmeticException"));

    Error remote = Error.newBuilder().setCode(13).setMessage("boom").setExceptionType("ValueError")
        .setTraceback("Traceback (most recent call last): ...").build();
    RemoteEnvException ex = StatusMapping.toException(remote);
    assertEquals(Status.Code.INTERNAL, ex.code());
    assertEquals("ValueError", ex.exceptionType());
    assertEquals("boom", ex.remoteMessage());
    assertEquals("INTERNAL (ValueError): boom", ex.getMessage());
    // and forwarded unchanged
    assertEquals(remote, StatusMapping.toError(ex));
    assertEquals(Status.Code.INTERNAL, StatusMapping.toStatus(ex).getCode());
  }

  @Test
  void unseededLanesRoundTripAndAreCheckedAgainstTheSeeds() {
    ResultCodec.Reset r = ResultCodec.decodeReset(ResultCodec.encodeReset(new long[] {1, 0, 2},
        new boolean[] {false, true, false}, Map.of(), null), 3);
    assertArrayEquals(new long[] {1, 0, 2}, r.seeds());
    assertArrayEquals(new boolean[] {false, true, false}, r.unseeded());
    assertNull(ResultCodec.decodeReset(
        ResultCodec.encodeReset(new long[] {1, 2, 3}, Map.of(), null), 3).unseeded());
    var single = assertThrows(IllegalArgumentException.class, () -> ResultCodec.decodeReset(
        ResultCodec.encodeReset(new long[] {7}, null, Map.of(), null).toBuilder()
            .addUnseededLanes(1).build(), 3));
    assertTrue(single.getMessage().contains("reset.unseeded_lanes"), single.getMessage());
    var outOfRange = assertThrows(IllegalArgumentException.class, () -> ResultCodec.decodeReset(
        ResultCodec.encodeReset(new long[] {1, 2, 3}, null, Map.of(), null).toBuilder()
            .addUnseededLanes(3).build(), 3));
    assertTrue(outOfRange.getMessage().contains("[0, 3)"), outOfRange.getMessage());
  }

  @Test
  void resetRequestsAndResultsRoundTrip() {
    ResultCodec.Reset r = ResultCodec.decodeReset(ResultCodec.encodeReset(new long[] {5},
        Map.of("x", 1), new boolean[] {true, false}), 2);
    assertArrayEquals(new long[] {5}, r.seeds());
    assertEquals(Map.of("x", 1L), r.options());
    assertArrayEquals(new boolean[] {true, false}, r.mask());
    assertThrows(IllegalArgumentException.class, () -> ResultCodec.decodeReset(
        ResultCodec.encodeReset(new long[] {1, 2, 3}, Map.of(), null), 2));

    Value obs = new TupleValue(List.of(Tensor.ofFloat32(new int[] {2, 1}, new float[] {1, 2}),
        new DictValue(Map.of("k", Tensor.ofInt64(new int[] {2}, new long[] {3, 4})))));
    var step = new io.dsogym.env.VectorEnv.VectorStepResult(obs, new double[] {1, -1},
        new boolean[] {true, false}, new boolean[] {false, false}, new int[] {0},
        new TupleValue(List.of(Tensor.ofFloat32(new int[] {1, 1}, new float[] {9}),
            new DictValue(Map.of("k", Tensor.ofInt64(new int[] {1}, new long[] {7}))))),
        Map.of("cost", Tensor.ofFloat64(new int[] {2}, new double[] {0.5, 0.25})));
    var back = ResultCodec.decode(ResultCodec.encode(step), 2, "step_result");
    assertEquals(obs, back.observations());
    assertArrayEquals(step.rewards(), back.rewards());
    assertArrayEquals(step.terminated(), back.terminated());
    assertArrayEquals(step.truncated(), back.truncated());
    assertArrayEquals(step.endedLanes(), back.endedLanes());
    assertEquals(step.finalObservations(), back.finalObservations());
    assertEquals(step.info(), back.info());
    assertThrows(IllegalArgumentException.class,
        () -> ResultCodec.decode(ResultCodec.encode(step), 3, "step_result"));
  }

  private static io.dsogym.wire.v1.Tensor parse(io.dsogym.wire.v1.Tensor t) {
    try {
      return io.dsogym.wire.v1.Tensor.parseFrom(t.toByteArray());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private static io.dsogym.wire.v1.Space parse(io.dsogym.wire.v1.Space s) {
    try {
      return io.dsogym.wire.v1.Space.parseFrom(s.toByteArray());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private static io.dsogym.wire.v1.Value parse(io.dsogym.wire.v1.Value s) {
    try {
      return io.dsogym.wire.v1.Value.parseFrom(s.toByteArray());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  private static io.dsogym.wire.v1.EnvSpec parse(io.dsogym.wire.v1.EnvSpec s) {
    try {
      return io.dsogym.wire.v1.EnvSpec.parseFrom(s.toByteArray());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }
}
