package io.dsogym.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.wire.v1.ResetRequest;
import io.dsogym.wire.v1.ServerCommand;
import io.dsogym.wire.v1.WorkerMessage;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The server's wait on a region, against this test playing the worker's side (the file mapped
 * and the doorbell connected as dsogym.shm does): it spins only while spinning pays, i.e. while
 * the last reply came within the spin window; a slow worker's replies are slept for.
 */
class SharedMemoryRegionWaitTest {
  private SharedMemoryRegion region;
  private MappedByteBuffer worker;
  private SocketChannel workerBell;

  @BeforeEach
  void open() throws Exception {
    region = SharedMemoryRegion.create("wait-test", 4096, 4096);
    try (FileChannel ch = FileChannel.open(region.path(), StandardOpenOption.READ,
        StandardOpenOption.WRITE)) {
      worker = ch.map(FileChannel.MapMode.READ_WRITE, 0, region.size());
      worker.order(ByteOrder.LITTLE_ENDIAN);
    }
    workerBell = SocketChannel.open(UnixDomainSocketAddress.of(
        SharedMemoryRegion.doorbellPath(region.path())));
    assertTrue(region.connectDoorbell());
    region.unlink();
  }

  @AfterEach
  void close() throws Exception {
    region.close();
    workerBell.close();
  }

  /** Publishes command {@code id} as the server does. */
  private void send(long id) {
    assertTrue(region.offer(ServerCommand.newBuilder().setId(id)
        .setReset(ResetRequest.newBuilder().addSeeds(id)).build()));
  }

  /** The worker's reply to {@code id}: its bytes, then the sequence, then a ring. */
  private void reply(long id) throws Exception {
    byte[] bytes = WorkerMessage.newBuilder().setId(id).build().toByteArray();
    int at = SharedMemoryRegion.HEADER_BYTES + region.requestCapacity();
    worker.put(at, bytes);
    worker.putInt(SharedMemoryRegion.REPLY_LENGTH, bytes.length);
    worker.putLong(SharedMemoryRegion.REPLY_SEQ, id);
    workerBell.write(ByteBuffer.wrap(new byte[] {1}));
  }

  private WorkerMessage await(long id) throws Exception {
    return region.await(id, new CompletableFuture<>(),
        System.nanoTime() + TimeUnit.SECONDS.toNanos(10));
  }

  @Test
  void spinsOnlyWhileTheLastReplyCameWithinTheSpinWindow() throws Exception {
    assertTrue(region.spinsNextWait(), "a fresh region spins first");
    // a worker slower than the spin: its reply comes 20 ms after the command
    send(1);
    Thread slow = new Thread(() -> {
      try {
        Thread.sleep(20);
        reply(1);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    slow.start();
    assertEquals(1, await(1).getId());
    slow.join();
    assertFalse(region.spinsNextWait(), "a reply 20 ms late: a spin would not have caught it");

    // without a spin, the doorbell still wakes the wait for a slow reply
    send(2);
    Thread slowAgain = new Thread(() -> {
      try {
        Thread.sleep(20);
        reply(2);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    slowAgain.start();
    assertEquals(2, await(2).getId());
    slowAgain.join();
    assertFalse(region.spinsNextWait());

    // a reply already there when the wait starts: the worker got quick, spinning pays again
    send(3);
    reply(3);
    assertEquals(3, await(3).getId());
    assertTrue(region.spinsNextWait(), "a reply found at the first look");
  }
}
