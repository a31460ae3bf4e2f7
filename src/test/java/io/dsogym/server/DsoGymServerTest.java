package io.dsogym.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.dsogym.cli.Main;
import io.dsogym.wire.v1.ClientHello;
import io.dsogym.wire.v1.ClientRequest;
import io.dsogym.wire.v1.ClientResponse;
import io.dsogym.wire.v1.EnvServiceGrpc;
import io.dsogym.wire.v1.ListEnvsRequest;
import io.dsogym.wire.v1.MakeRequest;
import io.dsogym.wire.v1.ProtocolVersion;
import io.dsogym.wire.v1.ResetRequest;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The TCP server: limits, garbage, bind rules; and the CLI wiring. */
class DsoGymServerTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  /** Sends raw bytes as if they were a ListEnvsRequest. */
  private static final MethodDescriptor<byte[], byte[]> RAW_LIST_ENVS =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName(EnvServiceGrpc.getListEnvsMethod().getFullMethodName())
          .setRequestMarshaller(new RawMarshaller())
          .setResponseMarshaller(new RawMarshaller())
          .build();

  private static final class RawMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (java.io.IOException e) {
        throw new RuntimeException(e);
      }
    }
  }

  @Test
  void tryWithResourcesStopsTheServer() throws Exception {
    java.net.ServerSocket probe;
    int port;
    try (DsoGymServer server = DsoGymServer.tcp(0).start()) {
      port = Integer.parseInt(server.address().substring(server.address().lastIndexOf(':') + 1));
    }
    probe = new java.net.ServerSocket(port);  // the port is free again: the server stopped
    probe.close();
  }

  @Test
  void garbageAndOversizeMessagesFailOnlyTheirCall() throws Exception {
    DsoGymServer server = grpc.register(DsoGymServer.tcp(0).start());
    assertTrue(server.address().startsWith("127.0.0.1:"), server.address());
    ManagedChannel channel = grpc.register(ManagedChannelBuilder.forTarget(server.address())
        .usePlaintext().maxInboundMessageSize(128 << 20).build());

    StatusRuntimeException garbage = assertThrows(StatusRuntimeException.class,
        () -> ClientCalls.blockingUnaryCall(channel, RAW_LIST_ENVS, CallOptions.DEFAULT,
            new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01, 0x02}));
    assertEquals(Status.Code.INVALID_ARGUMENT, garbage.getStatus().getCode(),
        garbage.toString());
    assertTrue(garbage.getStatus().getDescription().contains("ListEnvsRequest"),
        garbage.toString());

    try (SessionClient big = new SessionClient(channel)) {
      big.call(ClientRequest.newBuilder().setHello(ClientHello.newBuilder()
          .setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1)));
      // 65 MiB of options: over the 64 MiB limit
      ClientRequest huge = ClientRequest.newBuilder().setId(2).setReset(ResetRequest.newBuilder()
          .setOptionsJsonBytes(ByteString.copyFrom(new byte[65 << 20]))).build();
      Object reply = sendRaw(big, huge);
      // the server refuses it (RESOURCE_EXHAUSTED; the client may see the reset stream as
      // CANCELLED first) and ends only this session
      assertTrue(reply instanceof StatusRuntimeException s && java.util.Set.of(
          Status.Code.RESOURCE_EXHAUSTED, Status.Code.CANCELLED).contains(s.getStatus().getCode()),
          String.valueOf(reply));
    }

    // the server keeps serving
    assertTrue(EnvServiceGrpc.newBlockingStub(channel)
        .listEnvs(ListEnvsRequest.getDefaultInstance()).getEnvsCount() >= 1);
    try (SessionClient c = new SessionClient(channel)) {
      c.call(ClientRequest.newBuilder().setHello(ClientHello.newBuilder()
          .setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1)));
      assertEquals(ClientResponse.ResponseCase.MADE, c.call(ClientRequest.newBuilder()
          .setMake(MakeRequest.newBuilder().setEnvId("CartPole-v1"))).getResponseCase());
    }
  }

  private static Object sendRaw(SessionClient c, ClientRequest request) {
    return c.sendAndNext(request);
  }

  @Test
  void bindingBeyondLoopbackNeedsAnAuthToken() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DsoGymServer.tcp("0.0.0.0", 0, ServerOptions.defaults()));
    assertTrue(e.getMessage().contains("auth token"), e.getMessage());
    DsoGymServer.tcp("0.0.0.0", 0, ServerOptions.defaults()
        .withAuthToken("a-token-of-24-characters").withAllowPlaintext(true));
    assertThrows(IllegalArgumentException.class,
        () -> DsoGymServer.tcp("127.0.0.1", 70000, ServerOptions.defaults()));
  }

  @Test
  void cliListsEnvsAndRejectsUnknownCommands() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
    PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
    assertEquals(0, Main.run(new String[] {"envs"}, o, e));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("CartPole-v1  observation Box"),
        out.toString(StandardCharsets.UTF_8));
    assertEquals(0, Main.run(new String[] {"help"}, o, e));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("serve"));
    assertEquals(2, Main.run(new String[] {"nope"}, o, e));
    assertEquals(2, Main.run(new String[] {"serve", "--port", "x"}, o, e));
    assertEquals(2, Main.run(new String[] {"serve", "--bind", "0.0.0.0"}, o, e));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains("auth token"),
        err.toString(StandardCharsets.UTF_8));
    assertEquals(2, Main.run(new String[] {"serve", "--max-sessions", "0"}, o, e));
    assertTrue(err.toString(StandardCharsets.UTF_8).contains(
        "--max-sessions: expected a value >= 1, got 0"), err.toString(StandardCharsets.UTF_8));
  }
}
