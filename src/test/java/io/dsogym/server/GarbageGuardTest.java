package io.dsogym.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.wire.v1.ClientHello;
import io.dsogym.wire.v1.ClientRequest;
import io.dsogym.wire.v1.ClientResponse;
import io.dsogym.wire.v1.EnvServiceGrpc;
import io.dsogym.wire.v1.ListEnvsRequest;
import io.dsogym.wire.v1.MakeRequest;
import io.dsogym.wire.v1.ProtocolVersion;
import io.dsogym.wire.v1.WorkerServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Unparsable bytes: INVALID_ARGUMENT for their call, one short log line a minute per peer. */
class GarbageGuardTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  private static final byte[] GARBAGE = {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01, 0x02};

  private final List<LogRecord> records = new CopyOnWriteArrayList<>();
  private final Handler capture = new Handler() {
    @Override
    public void publish(LogRecord record) {
      records.add(record);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  };

  @BeforeEach
  void captureLogs() {
    Logger.getLogger("").addHandler(capture);
  }

  @AfterEach
  void releaseLogs() {
    Logger.getLogger("").removeHandler(capture);
  }

  private static final class Raw implements MethodDescriptor.Marshaller<byte[]> {
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

  private static MethodDescriptor<byte[], byte[]> raw(MethodDescriptor<?, ?> method) {
    return MethodDescriptor.<byte[], byte[]>newBuilder().setType(method.getType())
        .setFullMethodName(method.getFullMethodName()).setRequestMarshaller(new Raw())
        .setResponseMarshaller(new Raw()).build();
  }

  /** Opens a raw stream, sends {@code messages} and returns how the call ended. */
  private static Status stream(ManagedChannel channel, MethodDescriptor<?, ?> method,
      byte[]... messages) throws Exception {
    CompletableFuture<Status> ended = new CompletableFuture<>();
    StreamObserver<byte[]> out = ClientCalls.asyncBidiStreamingCall(
        channel.newCall(raw(method), CallOptions.DEFAULT), new StreamObserver<>() {
          @Override
          public void onNext(byte[] value) {}

          @Override
          public void onError(Throwable t) {
            ended.complete(Status.fromThrowable(t));
          }

          @Override
          public void onCompleted() {
            ended.complete(Status.OK);
          }
        });
    for (byte[] m : messages) {
      out.onNext(m);
    }
    return ended.get(10, TimeUnit.SECONDS);
  }

  @Test
  void garbageIsInvalidArgumentAndLoggedOnceAMinutePerPeerWithoutStackTraces() throws Exception {
    DsoGymServer server = grpc.register(DsoGymServer.tcp(0).start());
    ManagedChannel channel = grpc.register(ManagedChannelBuilder.forTarget(server.address())
        .usePlaintext().build());
    for (int i = 0; i < 20; i++) {
      StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
          () -> ClientCalls.blockingUnaryCall(channel, raw(EnvServiceGrpc.getListEnvsMethod()),
              CallOptions.DEFAULT, GARBAGE));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.toString());
    }
    byte[] hello = ClientRequest.newBuilder().setId(1).setHello(ClientHello.newBuilder()
        .setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1)).build().toByteArray();
    for (int i = 0; i < 20; i++) {
      // a session that said hello, then garbage: the stream ends with INVALID_ARGUMENT
      Status s = stream(channel, EnvServiceGrpc.getSessionMethod(), hello, GARBAGE);
      assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), s.toString());
      assertTrue(s.getDescription().contains("ClientRequest"), s.toString());
      Status w = stream(channel, WorkerServiceGrpc.getConnectMethod(), GARBAGE);
      assertEquals(Status.Code.INVALID_ARGUMENT, w.getCode(), w.toString());
    }
    assertEquals(60, server.garbageGuard().refused());

    List<LogRecord> ours = records.stream()
        .filter(r -> r.getLoggerName().equals(GarbageGuard.class.getName())).toList();
    assertEquals(1, ours.size(), "one line for the peer in this minute: " + messages(ours));
    assertTrue(ours.get(0).getMessage().contains("127.0.0.1"), ours.get(0).getMessage());
    assertTrue(ours.get(0).getThrown() == null, "no stack trace");
    List<LogRecord> severe = records.stream()
        .filter(r -> r.getLevel().intValue() >= Level.SEVERE.intValue()).toList();
    assertTrue(severe.isEmpty(), "no SEVERE records: " + messages(severe));
    assertEquals(0, server.resources().sessions(), "the refused sessions were freed");

    // the server keeps serving, on the same channel
    assertTrue(EnvServiceGrpc.newBlockingStub(channel)
        .listEnvs(ListEnvsRequest.getDefaultInstance()).getEnvsCount() >= 1);
    try (SessionClient c = new SessionClient(channel)) {
      c.call(ClientRequest.newBuilder().setHello(ClientHello.newBuilder()
          .setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1)));
      assertEquals(ClientResponse.ResponseCase.MADE, c.call(ClientRequest.newBuilder()
          .setMake(MakeRequest.newBuilder().setEnvId("CartPole-v1"))).getResponseCase());
    }
  }

  @Test
  void aSessionWithAnEnvFreesItsLanesWhenGarbageEndsIt() throws Exception {
    DsoGymServer server = grpc.register(DsoGymServer.tcp(0).start());
    ManagedChannel channel = grpc.register(ManagedChannelBuilder.forTarget(server.address())
        .usePlaintext().build());
    byte[] hello = ClientRequest.newBuilder().setId(1).setHello(ClientHello.newBuilder()
        .setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1)).build().toByteArray();
    byte[] make = ClientRequest.newBuilder().setId(2).setMake(MakeRequest.newBuilder()
        .setEnvId("CartPole-v1").setNumEnvs(7)).build().toByteArray();
    Status s = stream(channel, EnvServiceGrpc.getSessionMethod(), hello, make, GARBAGE);
    assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), s.toString());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (server.resources().lanes() != 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(0, server.resources().lanes());
    assertEquals(0, server.resources().sessions());
  }

  @Test
  void theLogLineComesBackAfterAMinuteCountingWhatItSkipped() {
    AtomicLong now = new AtomicLong(0);
    GarbageGuard guard = new GarbageGuard(now::get);
    for (int i = 0; i < 5; i++) {
      guard.logRefusal("10.0.0.1", "m", "bad");
    }
    guard.logRefusal("10.0.0.2", "m", "bad");  // another peer has its own minute
    now.addAndGet(GarbageGuard.LOG_INTERVAL_NANOS - 1);
    guard.logRefusal("10.0.0.1", "m", "bad");
    now.addAndGet(1);
    guard.logRefusal("10.0.0.1", "m", "bad");
    List<String> lines = messages(records.stream()
        .filter(r -> r.getLoggerName().equals(GarbageGuard.class.getName())).toList());
    assertEquals(3, lines.size(), lines.toString());
    assertTrue(lines.get(2).contains("10.0.0.1") && lines.get(2).contains("5 more"),
        lines.toString());
    assertEquals(8, guard.refused());
  }

  private static List<String> messages(List<LogRecord> rs) {
    return rs.stream().map(LogRecord::getMessage).toList();
  }
}
