package io.dsogym.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.dsogym.env.AutoresetMode;
import io.dsogym.env.EnvUnavailableException;
import io.dsogym.env.Tensor;
import io.dsogym.envs.classic.CartPole;
import io.dsogym.server.DsoGymServer;
import io.dsogym.server.GrpcCleanupExtension;
import io.dsogym.server.ServerOptions;
import io.dsogym.wire.v1.Error;
import io.dsogym.wire.v1.ServerCommand;
import io.dsogym.wire.v1.SharedMemoryAccepted;
import io.dsogym.wire.v1.WorkerMessage;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The offer of capability shm_steps, against a Java worker that answers it in chosen ways: a
 * worker that cannot prove co-location (another token, an error) keeps every command on the
 * stream, the region file is gone after the answer either way, and a region reply that never
 * comes times out and retires the region.
 */
class SharedMemoryOfferTest {
  @RegisterExtension
  final GrpcCleanupExtension grpc = new GrpcCleanupExtension();

  private DsoGymServer server;
  private ManagedChannel channel;
  /** The offered file, and whether it existed while the worker answered. */
  private final CompletableFuture<Path> offered = new CompletableFuture<>();
  private volatile boolean existedAtOffer;

  @BeforeEach
  void startServer() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server = grpc.register(new DsoGymServer(InProcessServerBuilder.forName(name),
        ServerOptions.defaults()).start());
    channel = grpc.register(InProcessChannelBuilder.forName(name).build());
  }

  /** A CartPole worker declaring shm_steps whose answer to the offer is {@code answer}. */
  private RemoteVectorEnv connect(java.util.function.Function<Path, WorkerMessage> answer) {
    FakeWorker worker = new FakeWorker("fake", new CartPole().spec(), 2,
        mode -> RemoteVectorEnvTest.cartPoles(2, mode));
    worker.behave((c, w) -> {
      if (c.getCommandCase() != ServerCommand.CommandCase.SHM_OFFER) {
        return null;
      }
      Path path = Path.of(c.getShmOffer().getPath());
      existedAtOffer = Files.exists(path);
      offered.complete(path);
      return answer.apply(path);
    });
    worker.connect(channel, worker.defaultHello().addCapabilities(SharedMemoryRegion.CAPABILITY));
    return server.pool().awaitWorker("CartPole-v1", Duration.ofSeconds(5));
  }

  @Test
  void aWorkerReadingAnotherTokenKeepsTheStream() throws Exception {
    // what a worker on another host or with another /dev/shm reads: not the server's bytes
    RemoteVectorEnv env = connect(path -> WorkerMessage.newBuilder().setShmAccepted(
        SharedMemoryAccepted.newBuilder().setToken(ByteString.copyFrom(new byte[32]))).build());
    env.reset(new long[] {0});
    assertEquals("grpc", env.transport());
    assertTrue(env.sharedMemoryOutcome().contains("did not read the token back"),
        env.sharedMemoryOutcome());
    assertRegionFileGone();
    env.step(Tensor.ofInt64(new int[] {2}, new long[] {0, 1}));
    assertEquals(0, env.sharedMemoryCommands());
  }

  @Test
  void aRefusedOfferKeepsTheStream() throws Exception {
    RemoteVectorEnv env = connect(path -> WorkerMessage.newBuilder().setError(Error.newBuilder()
        .setCode(9).setMessage("shm_offer.path: cannot open it here")).build());
    env.reset(new long[] {0});
    assertEquals("grpc", env.transport());
    assertEquals("refused: shm_offer.path: cannot open it here", env.sharedMemoryOutcome());
    assertRegionFileGone();
  }

  @Test
  void aRegionReplyThatNeverComesTimesOutAndRetiresTheRegion() throws Exception {
    // the worker proves co-location and connects to the doorbell, but never serves the region
    java.util.List<java.nio.channels.SocketChannel> doorbells = new java.util.ArrayList<>();
    RemoteVectorEnv env = connect(path -> {
      try {
        doorbells.add(java.nio.channels.SocketChannel.open(java.net.UnixDomainSocketAddress.of(
            SharedMemoryRegion.doorbellPath(path))));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return WorkerMessage.newBuilder().setShmAccepted(SharedMemoryAccepted.newBuilder()
          .setToken(ByteString.copyFrom(firstBytes(path, 32)))).build();
    });
    env.setTimeout(Duration.ofMillis(300));
    EnvUnavailableException e = assertThrows(EnvUnavailableException.class,
        () -> env.reset(new long[] {0}));
    assertEquals(EnvUnavailableException.Reason.DEADLINE_EXCEEDED, e.reason(), e.getMessage());
    assertTrue(e.getMessage().contains("no reply to reset"), e.getMessage());
    assertEquals("grpc", env.transport());
    assertEquals("retired after a timeout", env.sharedMemoryOutcome());
    assertRegionFileGone();
    env.setTimeout(Duration.ofSeconds(5));
    env.reset(new long[] {0});  // on the stream now
    env.step(Tensor.ofInt64(new int[] {2}, new long[] {0, 1}));
    assertEquals(AutoresetMode.SAME_STEP, env.autoresetMode());
    java.nio.ByteBuffer rings = java.nio.ByteBuffer.allocate(64);
    while (doorbells.get(0).read(rings) >= 0) {
      // the reset's ring, then the end: the retired region's doorbell was hung up
    }
    assertEquals(1, rings.position(), "rings before the hang-up: the reset's");
  }

  @Test
  void aWorkerThatDoesNotConnectToTheDoorbellKeepsTheStream() throws Exception {
    RemoteVectorEnv env = connect(path -> WorkerMessage.newBuilder().setShmAccepted(
        SharedMemoryAccepted.newBuilder().setToken(ByteString.copyFrom(firstBytes(path, 32))))
        .build());
    env.reset(new long[] {0});
    assertEquals("grpc", env.transport());
    assertEquals("the worker did not connect to the doorbell", env.sharedMemoryOutcome());
    assertRegionFileGone();
  }

  private void assertRegionFileGone() throws Exception {
    Path path = offered.get();
    assertTrue(existedAtOffer, "the region file existed while the worker answered");
    assertFalse(Files.exists(path), "the region file is unlinked after the answer: " + path);
    assertFalse(Files.exists(SharedMemoryRegion.doorbellPath(path)), "the doorbell's socket file");
  }

  private static byte[] firstBytes(Path path, int n) {
    try (InputStream in = Files.newInputStream(path)) {
      return in.readNBytes(n);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
