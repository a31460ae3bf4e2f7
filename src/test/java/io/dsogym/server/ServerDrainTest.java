package io.dsogym.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.wire.v1.ClientHello;
import io.dsogym.wire.v1.ClientRequest;
import io.dsogym.wire.v1.ClientResponse;
import io.dsogym.wire.v1.EnvServiceGrpc;
import io.dsogym.wire.v1.ListEnvsRequest;
import io.dsogym.wire.v1.MakeRequest;
import io.dsogym.wire.v1.ProtocolVersion;
import io.dsogym.wire.v1.ResetRequest;
import io.dsogym.wire.v1.StepRequest;
import io.dsogym.wire.v1.Tensor;
import io.dsogym.wire.v1.Value;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A server that stops (SIGTERM to {@code dsogym serve}) drains: it refuses new calls at once,
 * serves the open sessions for the grace period, then ends them with UNAVAILABLE saying that the
 * server is shutting down.
 */
class ServerDrainTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  @Test
  void openSessionsAreServedDuringTheGraceThenEndedWithUnavailableSayingWhy() throws Exception {
    DsoGymServer server = grpc.register(DsoGymServer.tcp(0).start());
    ManagedChannel channel = grpc.register(ManagedChannelBuilder.forTarget(server.address())
        .usePlaintext().build());
    SessionClient session = new SessionClient(channel);
    session.call(ClientRequest.newBuilder().setHello(ClientHello.newBuilder()
        .setProtocolVersion(ProtocolVersion.PROTOCOL_VERSION_1)));
    session.call(ClientRequest.newBuilder().setMake(MakeRequest.newBuilder()
        .setEnvId("CartPole-v1")));
    session.call(ClientRequest.newBuilder().setReset(ResetRequest.newBuilder().addSeeds(0)));

    CompletableFuture<Void> stop = CompletableFuture.runAsync(() -> {
      try {
        server.stop(Duration.ofSeconds(2));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }, task -> new Thread(task, "stop").start());

    // new calls are refused once the drain has begun ...
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (newCallSucceeds(channel)) {
      assertTrue(System.nanoTime() < deadline, "the server still accepts new calls");
      Thread.sleep(10);
    }
    // ... while the open session is still served
    assertEquals(ClientResponse.ResponseCase.STEP_RESULT, session.call(step()).getResponseCase());

    stop.get(10, TimeUnit.SECONDS);
    // whatever the session sends now, its stream has ended with the notice
    Object end = session.sendAndNext(step().setId(99).build());
    StatusRuntimeException e = assertInstanceOf(StatusRuntimeException.class, end);
    assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
    assertTrue(e.getStatus().getDescription().startsWith("dsogym server shutting down (its "
        + "grace period of 2000 ms is over)"), e.toString());
  }

  private static boolean newCallSucceeds(ManagedChannel channel) {
    try {
      EnvServiceGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
          .listEnvs(ListEnvsRequest.getDefaultInstance());
      return true;
    } catch (StatusRuntimeException e) {
      return false;
    }
  }

  private static ClientRequest.Builder step() {
    return ClientRequest.newBuilder().setStep(StepRequest.newBuilder().setActions(
        Value.newBuilder().setTensor(Tensor.newBuilder().setDtype(io.dsogym.wire.v1.DType.INT64)
            .addShape(1).setData(com.google.protobuf.ByteString.copyFrom(new byte[8])))));
  }
}
