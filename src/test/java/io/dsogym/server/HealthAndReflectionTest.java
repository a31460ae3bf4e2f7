package io.dsogym.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The standard health service and server reflection, over TCP as grpcurl would use them. */
class HealthAndReflectionTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  @Test
  void healthAnswersServingForTheServerAndEachService() throws Exception {
    DsoGymServer server = grpc.register(DsoGymServer.tcp(0).start());
    ManagedChannel channel = grpc.register(ManagedChannelBuilder.forTarget(server.address())
        .usePlaintext().build());
    HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel);
    for (String service : List.of("", "dsogym.v1.EnvService", "dsogym.v1.WorkerService")) {
      assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.check(
          HealthCheckRequest.newBuilder().setService(service).build()).getStatus(), service);
    }
    StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
        () -> health.check(HealthCheckRequest.newBuilder().setService("no.Such").build()));
    assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());

    // Watch hears NOT_SERVING when the server stops.
    CompletableFuture<HealthCheckResponse.ServingStatus> first = new CompletableFuture<>();
    CompletableFuture<HealthCheckResponse.ServingStatus> last = new CompletableFuture<>();
    HealthGrpc.newStub(channel).watch(HealthCheckRequest.getDefaultInstance(),
        new StreamObserver<>() {
          @Override
          public void onNext(HealthCheckResponse r) {
            if (!first.complete(r.getStatus())) {
              last.complete(r.getStatus());
            }
          }

          @Override
          public void onError(Throwable t) {
            last.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    assertEquals(HealthCheckResponse.ServingStatus.SERVING, first.get(5, TimeUnit.SECONDS));
    Thread stopper = new Thread(() -> {
      try {
        server.stop();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    stopper.start();
    assertEquals(HealthCheckResponse.ServingStatus.NOT_SERVING, last.get(5, TimeUnit.SECONDS));
    stopper.join(10_000);
  }

  @Test
  void reflectionListsTheServicesAndServesTheirProtoFiles() throws Exception {
    DsoGymServer server = grpc.register(DsoGymServer.tcp(0).start());
    ManagedChannel channel = grpc.register(ManagedChannelBuilder.forTarget(server.address())
        .usePlaintext().build());
    ServerReflectionResponse list = reflect(channel, ServerReflectionRequest.newBuilder()
        .setListServices("").build());
    Set<String> services = list.getListServicesResponse().getServiceList().stream()
        .map(ServiceResponse::getName).collect(Collectors.toSet());
    assertTrue(services.containsAll(Set.of("dsogym.v1.EnvService", "dsogym.v1.WorkerService",
        "grpc.health.v1.Health")), services.toString());

    ServerReflectionResponse file = reflect(channel, ServerReflectionRequest.newBuilder()
        .setFileContainingSymbol("dsogym.v1.EnvService").build());
    FileDescriptorProto proto = FileDescriptorProto.parseFrom(
        file.getFileDescriptorResponse().getFileDescriptorProto(0));
    assertEquals("dsogym/v1/env.proto", proto.getName());
    assertTrue(proto.getServiceList().stream().anyMatch(s -> s.getName().equals("EnvService")
        && s.getMethodList().stream().anyMatch(m -> m.getName().equals("Session"))),
        proto.getServiceList().toString());
  }

  private static ServerReflectionResponse reflect(ManagedChannel channel,
      ServerReflectionRequest request) throws Exception {
    CompletableFuture<ServerReflectionResponse> reply = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> out = ServerReflectionGrpc.newStub(channel)
        .serverReflectionInfo(new StreamObserver<>() {
          @Override
          public void onNext(ServerReflectionResponse r) {
            reply.complete(r);
          }

          @Override
          public void onError(Throwable t) {
            reply.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    out.onNext(request);
    ServerReflectionResponse r = reply.get(5, TimeUnit.SECONDS);
    out.onCompleted();
    return r;
  }
}
