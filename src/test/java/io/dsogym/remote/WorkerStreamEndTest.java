package io.dsogym.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.EnvSpec;
import io.dsogym.env.EnvUnavailableException;
import io.dsogym.env.Tensor;
import io.dsogym.envs.classic.CartPole;
import io.dsogym.server.DsoGymServer;
import io.dsogym.server.GrpcCleanupExtension;
import io.dsogym.server.ServerOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * How the server ends a worker's stream: a second hello is a protocol error that ends the
 * stream naming it, and a server shutdown closes idle workers with its reason at once and ends
 * workers in use with UNAVAILABLE once the grace period is over.
 */
class WorkerStreamEndTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  private DsoGymServer server;
  private ManagedChannel channel;

  @BeforeEach
  void startServer() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = grpc.register(new DsoGymServer(InProcessServerBuilder.forName(name),
        ServerOptions.defaults().withWorkerRequestTimeout(Duration.ofSeconds(5))).start());
    channel = grpc.register(InProcessChannelBuilder.forName(name).build());
  }

  private static FakeWorker cartPoleWorker(String name) {
    EnvSpec spec = new CartPole().spec();
    return new FakeWorker(name, spec, 1, mode -> RemoteVectorEnvTest.cartPoles(1, mode));
  }

  private static Tensor action() {
    return Tensor.ofInt64(new int[] {1}, new long[] {0});
  }

  @Test
  void aSecondHelloEndsTheStreamWithFailedPreconditionNamingIt() throws Exception {
    FakeWorker worker = cartPoleWorker("twice").connect(channel);
    RemoteVectorEnv remote = server.pool().awaitWorker("CartPole-v1", Duration.ofSeconds(5));
    remote.reset(new long[] {0});

    worker.helloAgain();

    Status ended = worker.ended.get(5, TimeUnit.SECONDS);
    assertEquals(Status.Code.FAILED_PRECONDITION, ended.getCode(), ended.toString());
    assertTrue(ended.getDescription().contains("hello: expected one per stream, got a second "
        + "one from worker " + remote.workerId()), ended.getDescription());
    EnvUnavailableException e = assertThrows(EnvUnavailableException.class,
        () -> remote.step(action()));
    assertTrue(e.getMessage().contains("expected one per stream"), e.getMessage());
    assertEquals(List.of(), server.pool().workers(), "the worker left the pool");
  }

  @Test
  void shutdownClosesIdleWorkersAtOnceAndEndsWorkersInUseAfterTheGrace() throws Exception {
    FakeWorker busy = cartPoleWorker("busy").connect(channel);
    RemoteVectorEnv remote = server.pool().awaitWorker("CartPole-v1", Duration.ofSeconds(5));
    FakeWorker idle = cartPoleWorker("idle").connect(channel);
    idle.hello().get(5, TimeUnit.SECONDS);
    remote.reset(new long[] {0});

    CompletableFuture<Void> stop = CompletableFuture.runAsync(() -> {
      try {
        server.stop(Duration.ofSeconds(1));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }, task -> new Thread(task, "stop").start());

    // the drain has begun: the idle worker is told why and closed ...
    assertEquals("dsogym server shutting down", idle.closeReason.get(5, TimeUnit.SECONDS));
    assertEquals(Status.OK, idle.ended.get(5, TimeUnit.SECONDS));
    // ... while the worker in use goes on serving during the grace period
    assertEquals(1, remote.step(action()).rewards().length);

    stop.get(10, TimeUnit.SECONDS);
    Status ended = busy.ended.get(5, TimeUnit.SECONDS);
    assertEquals(Status.Code.UNAVAILABLE, ended.getCode(), ended.toString());
    assertTrue(ended.getDescription().startsWith("dsogym server shutting down (its grace "
        + "period of 1000 ms is over)"), ended.getDescription());
    EnvUnavailableException e = assertThrows(EnvUnavailableException.class,
        () -> remote.step(action()));
    assertTrue(e.getMessage().contains("dsogym server shutting down"), e.getMessage());
  }
}
