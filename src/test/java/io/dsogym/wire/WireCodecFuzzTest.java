package io.dsogym.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.InvalidProtocolBufferException;
import io.dsogym.env.Space;
import io.dsogym.env.Value;
import io.dsogym.wire.v1.EnvSpec;
import io.dsogym.wire.v1.ResetRequest;
import io.dsogym.wire.v1.ResetResult;
import io.dsogym.wire.v1.StepResult;
import org.junit.jupiter.api.Tag;

/**
 * Jazzer fuzz tests of the wire codecs: arbitrary bytes parsed as the protobuf messages a peer
 * sends, then decoded as the server decodes them. The property: a decoder either returns or
 * throws {@link IllegalArgumentException} with a message naming the field; any other exception
 * or Error fails the test, and so does a decoded value that does not survive re-encoding.
 *
 * <p>{@code mvn test} replays the corpus under src/test/resources/io/dsogym/wire/
 * WireCodecFuzzTestInputs/; {@code JAZZER_FUZZ=1} fuzzes (docs/protocol.md#fuzzing).
 */
@Tag("fuzz")
class WireCodecFuzzTest {
  /** Runs a decoder; only IllegalArgumentException naming {@code field} is allowed. */
  private static void refusedCleanly(String field, Runnable decode) {
    try {
      decode.run();
    } catch (IllegalArgumentException e) {
      if (e.getMessage() == null || !e.getMessage().contains(field)) {
        throw new AssertionError("expected a message naming '" + field + "', got: "
            + e.getMessage(), e);
      }
    }
  }

  @FuzzTest(maxDuration = "30s")
  void valueDecode(byte[] bytes) {
    io.dsogym.wire.v1.Value wire;
    try {
      wire = io.dsogym.wire.v1.Value.parseFrom(bytes);
    } catch (InvalidProtocolBufferException unparsable) {
      return; // the server's GarbageGuard answers INVALID_ARGUMENT before any codec runs
    }
    refusedCleanly("step.actions", () -> {
      Value v = ValueCodec.decode(wire, "step.actions");
      assertEquals(v, ValueCodec.decode(ValueCodec.encode(v), "again"), "round trip");
    });
  }

  @FuzzTest(maxDuration = "30s")
  void spaceDecodeAndCheck(FuzzedDataProvider data) {
    int n = data.consumeInt(0, 8);
    io.dsogym.wire.v1.Space wireSpace;
    io.dsogym.wire.v1.Value wireValue;
    try {
      wireSpace = io.dsogym.wire.v1.Space.parseFrom(data.consumeBytes(data.consumeInt(0, 4096)));
      wireValue = io.dsogym.wire.v1.Value.parseFrom(data.consumeRemainingAsBytes());
    } catch (InvalidProtocolBufferException unparsable) {
      return;
    }
    refusedCleanly("hello.env.action_space", () -> {
      Space space = SpaceCodec.decode(wireSpace, "hello.env.action_space");
      assertEquals(space.toString(),
          SpaceCodec.decode(SpaceCodec.encode(space), "again").toString(), "round trip");
    });
    Space space;
    try {
      space = SpaceCodec.decode(wireSpace, "space");
    } catch (IllegalArgumentException refused) {
      return;
    }
    // What the server does with a client's actions: decode, then check against the space.
    refusedCleanly("step.actions",
        () -> space.checkBatch(ValueCodec.decode(wireValue, "step.actions"), n, "step.actions"));
  }

  @FuzzTest(maxDuration = "30s")
  void resultsDecode(FuzzedDataProvider data) {
    int n = data.consumeInt(0, 64);
    boolean step = data.consumeBoolean();
    byte[] bytes = data.consumeRemainingAsBytes();
    try {
      if (step) {
        StepResult r = StepResult.parseFrom(bytes);
        refusedCleanly("worker w-1 step_result", () -> ResultCodec.decode(r, n,
            "worker w-1 step_result"));
      } else {
        ResetResult r = ResetResult.parseFrom(bytes);
        refusedCleanly("worker w-1 reset_result", () -> ResultCodec.decode(r, n,
            "worker w-1 reset_result"));
      }
    } catch (InvalidProtocolBufferException unparsable) {
      // refused before decoding
    }
  }

  @FuzzTest(maxDuration = "30s")
  void resetRequestDecode(FuzzedDataProvider data) {
    int n = data.consumeInt(1, 64);
    ResetRequest r;
    try {
      r = ResetRequest.parseFrom(data.consumeRemainingAsBytes());
    } catch (InvalidProtocolBufferException unparsable) {
      return;
    }
    refusedCleanly("reset.", () -> ResultCodec.decodeReset(r, n));
  }

  @FuzzTest(maxDuration = "30s")
  void envSpecDecode(byte[] bytes) {
    EnvSpec spec;
    try {
      spec = EnvSpec.parseFrom(bytes);
    } catch (InvalidProtocolBufferException unparsable) {
      return;
    }
    refusedCleanly("hello.env", () -> {
      io.dsogym.env.EnvSpec decoded = EnvSpecCodec.decode(spec, "hello.env");
      EnvSpecCodec.decode(EnvSpecCodec.encode(decoded), "again");
    });
  }

  @FuzzTest(maxDuration = "30s")
  void jsonParseObject(String text) {
    refusedCleanly("make.kwargs_json", () -> {
      var map = Json.parseObject(text, "make.kwargs_json");
      assertEquals(map, Json.parseObject(Json.toJson(map), "again"), "round trip");
    });
  }
}
