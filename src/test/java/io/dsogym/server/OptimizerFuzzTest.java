package io.dsogym.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.dsogym.wire.v1.DType;
import io.dsogym.wire.v1.EvaluationResult;
import io.dsogym.wire.v1.OpenOptimizer;
import io.dsogym.wire.v1.OptimizerReply;
import io.dsogym.wire.v1.OptimizerRequest;
import io.dsogym.wire.v1.Tensor;
import io.dsogym.wire.v1.TransitionBatch;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * Jazzer fuzz test of the optimizer stream: arbitrary sequences of opens, batches and
 * evaluations (well-formed kinds with fuzzed fields, or parsed bytes) into a real in-process
 * server. The properties, as for the env sessions ({@link ServerFuzzTest}): every reply is an
 * answer or an in-band error with a documented code, never UNKNOWN or INTERNAL (a Java bug, such
 * as the OutOfMemoryError a huge feature_dim once caused); afterwards the server still runs a
 * well-formed optimization session. {@code JAZZER_FUZZ=1} fuzzes (docs/protocol.md#fuzzing).
 */
@Tag("fuzz")
class OptimizerFuzzTest {
  private static final Set<Status.Code> DOCUMENTED = Set.of(Status.Code.OK,
      Status.Code.INVALID_ARGUMENT, Status.Code.FAILED_PRECONDITION,
      Status.Code.RESOURCE_EXHAUSTED, Status.Code.UNAUTHENTICATED, Status.Code.CANCELLED,
      Status.Code.UNAVAILABLE);
  private static final List<String> ALGORITHMS = List.of("gradient", "natural", "pco",
      "chain-iteration", "adam", "");
  private static final List<String> OPTION_NAMES = List.of("lr", "epochs", "minibatches",
      "value-hidden", "max-kl", "gamma", "cg-iters", "num-envs", "");

  private static DsoGymServer server;
  private static ManagedChannel channel;

  @BeforeAll
  static void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = new DsoGymServer(InProcessServerBuilder.forName(name), ServerOptions.defaults())
        .start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.stop();
  }

  @FuzzTest(maxDuration = "30s")
  void optimizerRequests(FuzzedDataProvider data) throws Exception {
    OptimizerServiceTest.Client client = new OptimizerServiceTest.Client(channel);
    try {
      for (int i = data.consumeInt(1, 6); i > 0 && data.remainingBytes() > 0; i--) {
        OptimizerRequest.Builder request = request(data);
        if (request == null) {
          continue;
        }
        client.send(request);
        // An accepted evaluation gets no reply of its own, and a batch may wait for one:
        // read what comes within a short while, and check each of it.
        for (Object r; (r = client.replies.poll(200, TimeUnit.MILLISECONDS)) != null; ) {
          if (r instanceof OptimizerReply reply && reply.hasError()) {
            assertDocumented(Status.fromCodeValue(reply.getError().getCode()).getCode(),
                reply.getError().getMessage());
          } else if (r instanceof Throwable t) {
            Status s = Status.fromThrowable(t);
            assertDocumented(s.getCode(), s.getDescription());
            return;
          } else if (!(r instanceof OptimizerReply)) {
            return;  // the server completed the stream
          }
        }
      }
    } finally {
      client.requests.onCompleted();
    }
    assertWellFormedSessionServed();
  }

  private static OptimizerRequest.Builder request(FuzzedDataProvider data) {
    OptimizerRequest.Builder b = OptimizerRequest.newBuilder();
    switch (data.consumeInt(0, 3)) {
      case 0 -> {
        OpenOptimizer.Builder o = OpenOptimizer.newBuilder()
            .setProtocolVersionValue(data.consumeInt(0, 2)).setAlgorithm(data.pickValue(ALGORITHMS))
            .setTheta(tensor(data)).setFeatureDim(data.consumeBoolean() ? data.consumeInt(-1, 4)
                : data.consumeInt()).setCostDependsOnTheta(data.consumeBoolean());
        for (int k = data.consumeInt(0, 2); k > 0; k--) {
          o.putOptions(data.pickValue(OPTION_NAMES), data.consumeString(12));
        }
        b.setOpen(o);
      }
      case 1 -> b.setBatch(TransitionBatch.newBuilder().setNumLanes(data.consumeInt(-1, 3))
          .setCosts(tensor(data)).setTerminated(tensor(data)).setTruncated(tensor(data))
          .setLogProbs(tensor(data)).setScores(tensor(data)).setFeatures(tensor(data))
          .setNextFeatures(tensor(data)));
      case 2 -> b.setEvaluation(EvaluationResult.newBuilder()
          .setEvaluationId(data.consumeLong(0, 3)).setLogProbs(tensor(data))
          .setScores(tensor(data)));
      default -> {
        try {
          b = OptimizerRequest.parseFrom(data.consumeBytes(data.consumeInt(0, 512))).toBuilder();
        } catch (InvalidProtocolBufferException unparsable) {
          return null;
        }
      }
    }
    return b;
  }

  /** Mostly FLOAT64 (the service's dtype) with a fuzzed shape and bytes, else any dtype. */
  private static Tensor tensor(FuzzedDataProvider data) {
    Tensor.Builder t = Tensor.newBuilder().setDtype(data.consumeBoolean() ? DType.FLOAT64
        : DType.forNumber(data.consumeInt(1, DType.values().length - 2)));
    for (int i = data.consumeInt(0, 2); i > 0; i--) {
      t.addShape(data.consumeLong(-1, 6));
    }
    return t.setData(ByteString.copyFrom(data.consumeBytes(data.consumeInt(0, 288)))).build();
  }

  private static void assertDocumented(Status.Code code, String message) {
    assertTrue(DOCUMENTED.contains(code), "a documented code, got " + code + ": " + message);
    assertTrue(code == Status.Code.OK || (message != null && !message.isBlank()),
        "a message with " + code);
  }

  /** Open, then one gradient batch of two transitions: answered with θ_1. */
  private static void assertWellFormedSessionServed() throws InterruptedException {
    OptimizerServiceTest.Client c = new OptimizerServiceTest.Client(channel);
    try {
      OptimizerReply opened = c.open("gradient", Map.of(), new double[] {0, 0}, 1, false);
      assertTrue(opened.hasOpened(), opened.toString());
      long id = c.send(OptimizerRequest.newBuilder().setBatch(TransitionBatch.newBuilder()
          .setNumLanes(1).setCosts(float64(new int[] {2}, 1, 2))
          .setTerminated(Tensor.newBuilder().setDtype(DType.BOOL).addShape(2)
              .setData(ByteString.copyFrom(new byte[] {0, 1})))
          .setTruncated(Tensor.newBuilder().setDtype(DType.BOOL).addShape(2)
              .setData(ByteString.copyFrom(new byte[] {0, 0})))
          .setLogProbs(float64(new int[] {2}, -0.7, -0.7))
          .setScores(float64(new int[] {2, 2}, 0.5, -0.5, -0.5, 0.5))
          .setFeatures(float64(new int[] {2, 1}, 0, 1))
          .setNextFeatures(float64(new int[] {2, 1}, 1, 2))));
      OptimizerReply update = c.next();
      assertEquals(id, update.getId());
      assertTrue(update.hasUpdate(), update.toString());
    } finally {
      c.requests.onCompleted();
    }
  }

  private static Tensor float64(int[] shape, double... values) {
    ByteBuffer bytes = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (double v : values) {
      bytes.putDouble(v);
    }
    Tensor.Builder t = Tensor.newBuilder().setDtype(DType.FLOAT64);
    for (int d : shape) {
      t.addShape(d);
    }
    return t.setData(ByteString.copyFrom(bytes.array())).build();
  }
}
