package io.dsogym.remote;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dsogym.env.DType;
import io.dsogym.env.Space;
import io.dsogym.env.Tensor;
import io.dsogym.env.VectorEnv;
import io.dsogym.wire.ResultCodec;
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
 * The server's side of a region, against this test playing the worker's (the file mapped and
 * the doorbell connected as dsogym.shm does): the wait spins only while spinning pays, i.e.
 * while the last reply came within the spin window; packed step replies read back as the step
 * results they stand for, and malformed ones are refused. The Python worker's packed replies
 * are checked in test_shm.py, and end to end by the contract tests over shared memory.
 */
class SharedMemoryRegionTest {
  private SharedMemoryRegion region;
  private MappedByteBuffer worker;
  private SocketChannel workerBell;

  @BeforeEach
  void open() throws Exception {
    // two lanes of float32 [2] observations
    region = SharedMemoryRegion.create("region-test", 4096, 4096,
        PackedStepReply.forSpace(Space.Box.uniform(DType.FLOAT32, new int[] {2}, -5, 5), 2));
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
    reply(id, SharedMemoryRegion.MESSAGE_FORMAT,
        WorkerMessage.newBuilder().setId(id).build().toByteArray());
  }

  private void reply(long id, int format, byte[] bytes) throws Exception {
    int at = SharedMemoryRegion.HEADER_BYTES + region.requestCapacity();
    worker.put(at, bytes);
    worker.putInt(SharedMemoryRegion.REPLY_LENGTH, bytes.length);
    worker.putInt(SharedMemoryRegion.REPLY_FORMAT, format);
    worker.putLong(SharedMemoryRegion.REPLY_SEQ, id);
    workerBell.write(ByteBuffer.wrap(new byte[] {1}));
  }

  /** A packed step of the two lanes: {@code ended} (K) and then the arrays, as Python packs them. */
  private static byte[] packedStep(int ended, int zero) {
    ByteBuffer b = ByteBuffer.allocate(8 + 16 + 16 + 8 + 4 + 4).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(ended).putInt(zero);
    b.putDouble(1.5).putDouble(-2.0);                                 // rewards
    b.putFloat(0.25f).putFloat(0.5f).putFloat(-1f).putFloat(2f);      // observations [2, 2]
    b.putFloat(9f).putFloat(-9f);                                     // lane 1's final observation
    b.put((byte) 0).put((byte) 1);                                    // terminated
    b.put((byte) 0).put((byte) 0);                                    // truncated
    b.putInt(1);                                                      // ended lanes
    return java.util.Arrays.copyOf(b.array(), b.position());
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

  @Test
  void aPackedStepReadsBackAsTheStepResultItStandsFor() throws Exception {
    send(7);
    reply(7, SharedMemoryRegion.PACKED_STEP_FORMAT, packedStep(1, 0));
    WorkerMessage m = await(7);
    assertEquals(7, m.getId());
    VectorEnv.VectorStepResult r = ResultCodec.decode(m.getStepResult(), 2, "step_result");
    assertArrayEquals(new double[] {0.25, 0.5, -1, 2},
        ((Tensor) r.observations()).toDoubleArray());
    assertArrayEquals(new int[] {2, 2}, ((Tensor) r.observations()).shape());
    assertEquals(DType.FLOAT32, ((Tensor) r.observations()).dtype());
    assertArrayEquals(new double[] {1.5, -2.0}, r.rewards());
    assertArrayEquals(new boolean[] {false, true}, r.terminated());
    assertArrayEquals(new boolean[] {false, false}, r.truncated());
    assertArrayEquals(new int[] {1}, r.endedLanes());
    assertArrayEquals(new double[] {9, -9}, ((Tensor) r.finalObservations()).toDoubleArray());
    assertArrayEquals(new int[] {1, 2}, ((Tensor) r.finalObservations()).shape());
  }

  @Test
  void malformedPackedStepsAndUnknownFormatsAreRefusedNamingWhatWasExpected() throws Exception {
    send(8);
    reply(8, SharedMemoryRegion.PACKED_STEP_FORMAT, packedStep(3, 0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> await(8));
    assertTrue(e.getMessage().contains("packed step: expected 0..2 ended lanes"), e.getMessage());
    send(9);
    byte[] shortened = packedStep(1, 0);
    reply(9, SharedMemoryRegion.PACKED_STEP_FORMAT,
        java.util.Arrays.copyOf(shortened, shortened.length - 4));
    e = assertThrows(IllegalArgumentException.class, () -> await(9));
    assertTrue(e.getMessage().contains("expected 56 bytes, got 52"), e.getMessage());
    send(10);
    reply(10, 7, packedStep(1, 0));
    e = assertThrows(IllegalArgumentException.class, () -> await(10));
    assertEquals("region reply #10 format: expected 0 or 1, got 7", e.getMessage());
  }
}
