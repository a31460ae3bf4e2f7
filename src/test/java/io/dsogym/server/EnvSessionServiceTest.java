package io.dsogym.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.DType;
import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.env.VectorEnv.VectorResetResult;
import io.dsogym.env.VectorEnv.VectorStepResult;
import io.dsogym.wire.EnvSpecCodec;
import io.dsogym.wire.ResultCodec;
import io.dsogym.wire.TensorCodec;
import io.dsogym.wire.ValueCodec;
import io.dsogym.wire.v1.AutoresetMode;
import io.dsogym.wire.v1.ClientHello;
import io.dsogym.wire.v1.ClientRequest;
import io.dsogym.wire.v1.ClientResponse;
import io.dsogym.wire.v1.CloseRequest;
import io.dsogym.wire.v1.EnvServiceGrpc;
import io.dsogym.wire.v1.ListEnvsRequest;
import io.dsogym.wire.v1.MakeRequest;
import io.dsogym.wire.v1.ProtocolVersion;
import io.dsogym.wire.v1.ResetRequest;
import io.dsogym.wire.v1.StepRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class EnvSessionServiceTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  private ManagedChannel channel;

  @BeforeEach
  void startServer() throws Exception {
    String name = InProcessServerBuilder.generateName();
    grpc.register(new DsoGymServer(InProcessServerBuilder.forName(name), ServerOptions.defaults())
        .start());
    channel = grpc.register(InProcessChannelBuilder.forName(name).directExecutor().build());
  }

  private SessionClient greeted() {
    SessionClient c = new SessionClient(channel);
    ClientResponse hello = c.call(ClientRequest.newBuilder().setHello(ClientHello.newBuilder()
        .setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1).setClientName("test")));
    assertEquals(ProtocolVersion.PROTOCOL_VERSION_1, hello.getHello().getProtocolVersion(),
        hello.toString());
    assertEquals(ServerOptions.MAX_MESSAGE_BYTES, hello.getHello().getMaxMessageBytes());
    return c;
  }

  private static ClientRequest.Builder make(String id, int n, String kwargs, AutoresetMode mode) {
    return ClientRequest.newBuilder().setMake(MakeRequest.newBuilder().setEnvId(id).setNumEnvs(n)
        .setKwargsJson(kwargs).setAutoresetMode(mode));
  }

  private static ClientRequest.Builder reset(long seed) {
    return ClientRequest.newBuilder().setReset(ResetRequest.newBuilder().addSeeds(seed));
  }

  private static ClientRequest.Builder step(io.dsogym.env.Value actions) {
    return ClientRequest.newBuilder().setStep(StepRequest.newBuilder()
        .setActions(ValueCodec.encode(actions)));
  }

  private static ClientRequest.Builder step(io.dsogym.wire.v1.Tensor actions) {
    return ClientRequest.newBuilder().setStep(StepRequest.newBuilder()
        .setActions(io.dsogym.wire.v1.Value.newBuilder().setTensor(actions)));
  }

  private static Tensor discrete(long... actions) {
    return Tensor.ofInt64(new int[] {actions.length}, actions);
  }

  private static void assertError(ClientResponse r, Status.Code code, String... fragments) {
    assertEquals(ClientResponse.ResponseCase.ERROR, r.getResponseCase(), r.toString());
    assertEquals(code.value(), r.getError().getCode(), r.getError().getMessage());
    for (String f : fragments) {
      assertTrue(r.getError().getMessage().contains(f),
          "'" + r.getError().getMessage() + "' should contain '" + f + "'");
    }
  }

  @Test
  void listEnvsHasTheNativeEnvs() {
    Set<String> ids = EnvServiceGrpc.newBlockingStub(channel)
        .listEnvs(ListEnvsRequest.getDefaultInstance()).getEnvsList().stream()
        .map(io.dsogym.wire.v1.EnvSpec::getId).collect(Collectors.toSet());
    assertTrue(ids.contains("CartPole-v1"), ids.toString());
    assertTrue(ids.contains("Pendulum-v1"), ids.toString());
  }

  @Test
  void makesResetsAndStepsCartPole() {
    try (SessionClient c = greeted()) {
      ClientResponse made = c.call(make("CartPole-v1", 2, "{}",
          AutoresetMode.AUTORESET_MODE_UNSPECIFIED));
      assertEquals(2, made.getMade().getNumEnvs());
      assertEquals(AutoresetMode.NEXT_STEP, made.getMade().getAutoresetMode(), "default mode");
      var spec = EnvSpecCodec.decode(made.getMade().getSpec(), "spec");
      assertEquals(new Space.Discrete(2), spec.actionSpace());

      ClientResponse r = c.call(reset(0));
      VectorResetResult reset = ResultCodec.decode(r.getResetResult(), 2, "reset");
      spec.observationSpace().checkBatch(reset.observations(), 2, "obs");

      VectorStepResult s = ResultCodec.decode(c.call(step(discrete(0, 1))).getStepResult(), 2,
          "step");
      assertArrayEquals(new double[] {1, 1}, s.rewards());
      spec.observationSpace().checkBatch(s.observations(), 2, "obs");

      assertEquals(ClientResponse.ResponseCase.CLOSED,
          c.call(ClientRequest.newBuilder().setClose(CloseRequest.getDefaultInstance()))
              .getResponseCase());
    }
  }

  @Test
  void everyErrorIsInBandAndChangesNothing() {
    try (SessionClient c = greeted()) {
      assertError(c.call(make("NoSuchEnv-v9", 1, "", AutoresetMode.NEXT_STEP)),
          Status.Code.NOT_FOUND, "NoSuchEnv-v9", "CartPole-v1");
      assertError(c.call(make("CartPole-v1", 1, "[1]", AutoresetMode.NEXT_STEP)),
          Status.Code.INVALID_ARGUMENT, "kwargs_json: expected a JSON object, got an array");
      assertError(c.call(make("CartPole-v1", 1, "{\"no_such_kwarg\": 1}",
          AutoresetMode.NEXT_STEP)), Status.Code.INVALID_ARGUMENT, "no_such_kwarg");
      assertError(c.call(make("CartPole-v1", -3, "", AutoresetMode.NEXT_STEP)),
          Status.Code.INVALID_ARGUMENT, "num_envs");
      assertError(c.call(reset(0)), Status.Code.FAILED_PRECONDITION, "make");

      c.call(make("CartPole-v1", 2, "", AutoresetMode.SAME_STEP));
      assertError(c.call(step(discrete(0, 1))), Status.Code.FAILED_PRECONDITION, "before reset");
      assertError(c.call(make("CartPole-v1", 2, "", AutoresetMode.SAME_STEP)),
          Status.Code.FAILED_PRECONDITION, "already");

      // A twin session without the bad requests must see the same observations.
      VectorResetResult r = ResultCodec.decode(c.call(reset(7)).getResetResult(), 2, "r");
      assertError(c.call(step(discrete(0, 2))), Status.Code.INVALID_ARGUMENT, "actions",
          "got 2");
      assertError(c.call(step(discrete(0))), Status.Code.INVALID_ARGUMENT, "actions",
          "shape");
      assertError(c.call(step(Tensor.ofFloat64(new int[] {2}, new double[] {0, 1}))),
          Status.Code.INVALID_ARGUMENT, "actions", "float64");
      assertError(c.call(step(TensorCodec.encode(discrete(0, 1)).toBuilder()
          .setDtype(io.dsogym.wire.v1.DType.DTYPE_UNSPECIFIED).build())),
          Status.Code.INVALID_ARGUMENT, "step.actions.dtype");
      assertError(c.call(step(TensorCodec.encode(discrete(0, 1)).toBuilder()
          .setData(com.google.protobuf.ByteString.copyFrom(new byte[3])).build())),
          Status.Code.INVALID_ARGUMENT, "step.actions.data: expected 16 bytes");
      assertError(c.call(ClientRequest.newBuilder().setReset(ResetRequest.newBuilder()
          .setOptionsJson("not json"))), Status.Code.INVALID_ARGUMENT, "options_json");
      assertError(c.call(ClientRequest.newBuilder().setHello(ClientHello.newBuilder()
          .setProtocolVersionValue(2))), Status.Code.FAILED_PRECONDITION, "protocol_version");
      assertError(c.call(ClientRequest.newBuilder()), Status.Code.INVALID_ARGUMENT, "request");
      VectorStepResult after = ResultCodec.decode(c.call(step(discrete(0, 1))).getStepResult(), 2,
          "s");

      try (SessionClient twin = greeted()) {
        twin.call(make("CartPole-v1", 2, "", AutoresetMode.SAME_STEP));
        VectorResetResult r2 = ResultCodec.decode(twin.call(reset(7)).getResetResult(), 2, "r");
        assertEquals(r.observations(), r2.observations());
        VectorStepResult s2 = ResultCodec.decode(twin.call(step(discrete(0, 1))).getStepResult(),
            2, "s");
        assertEquals(s2.observations(), after.observations(), "the rejected steps left a trace");
      }
    }
  }

  @Test
  void nonFiniteBoxActionsAreRejectedAndPendulumClipsOutOfRangeOnes() {
    try (SessionClient c = greeted()) {
      c.call(make("Pendulum-v1", 1, "", AutoresetMode.NEXT_STEP));
      c.call(reset(0));
      assertError(c.call(step(Tensor.ofFloat32(new int[] {1, 1}, new float[] {Float.NaN}))),
          Status.Code.INVALID_ARGUMENT, "actions", "finite");
      assertError(c.call(step(Tensor.ofFloat32(new int[] {1, 1},
          new float[] {Float.NEGATIVE_INFINITY}))), Status.Code.INVALID_ARGUMENT, "actions",
          "finite");
      // Gymnasium's Pendulum clips the torque into [-2, 2]; so does the Java one.
      ClientResponse clipped = c.call(step(Tensor.ofFloat32(new int[] {1, 1}, new float[] {5})));
      assertEquals(ClientResponse.ResponseCase.STEP_RESULT, clipped.getResponseCase(),
          clipped.toString());
      ClientResponse ok = c.call(step(Tensor.ofFloat32(new int[] {1, 1}, new float[] {0.5f})));
      assertEquals(ClientResponse.ResponseCase.STEP_RESULT, ok.getResponseCase(), ok.toString());
    }
  }

  @Test
  void requestsBeforeHelloAndWrongVersionsAreRefusedInBand() {
    try (SessionClient c = new SessionClient(channel)) {
      assertError(c.call(make("CartPole-v1", 1, "", AutoresetMode.NEXT_STEP)),
          Status.Code.FAILED_PRECONDITION, "hello first");
      assertError(c.call(ClientRequest.newBuilder().setHello(ClientHello.getDefaultInstance())),
          Status.Code.FAILED_PRECONDITION, "PROTOCOL_VERSION_1");
      ClientResponse ok = c.call(ClientRequest.newBuilder().setHello(ClientHello.newBuilder()
          .setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1)));
      assertEquals(ClientResponse.ResponseCase.HELLO, ok.getResponseCase());
      assertEquals(ClientResponse.ResponseCase.MADE,
          c.call(make("CartPole-v1", 1, "", AutoresetMode.NEXT_STEP)).getResponseCase());
    }
  }

  @Test
  void authTokenIsCheckedInTheHello() throws Exception {
    String name = InProcessServerBuilder.generateName();
    grpc.register(new DsoGymServer(InProcessServerBuilder.forName(name),
        ServerOptions.defaults().withAuthToken("s3cret-of-16-chars")).start());
    ManagedChannel ch = grpc.register(InProcessChannelBuilder.forName(name).build());
    try (SessionClient c = new SessionClient(ch)) {
      assertError(c.call(make("CartPole-v1", 1, "", AutoresetMode.NEXT_STEP)),
          Status.Code.FAILED_PRECONDITION, "hello first");
      assertEquals(ClientResponse.ResponseCase.HELLO, c.call(ClientRequest.newBuilder()
          .setHello(ClientHello.newBuilder().setProtocolVersion(
              ProtocolVersion.PROTOCOL_VERSION_1).setAuthToken("s3cret-of-16-chars")))
          .getResponseCase());
    }
    // a wrong token ends the stream: TransportSecurityTest.aWrongTokenEndsTheSessionStream
  }

  @Test
  void sessionEndsWhenTheClientEndsIt() {
    SessionClient c = greeted();
    c.call(make("CartPole-v1", 1, "", AutoresetMode.NEXT_STEP));
    c.close();
    assertEquals("completed", c.next());
    assertTrue(Arrays.asList(DType.values()).contains(DType.INT64));
  }
}
