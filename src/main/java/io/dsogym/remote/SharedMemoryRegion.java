package io.dsogym.remote;

import com.google.protobuf.InvalidProtocolBufferException;
import io.dsogym.env.Space;
import io.dsogym.wire.v1.ServerCommand;
import io.dsogym.wire.v1.WorkerMessage;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * The shared-memory region of capability {@value #CAPABILITY} (docs/protocol.md, "Shared-memory
 * steps"): a file under /dev/shm that the server and a co-located worker both map, through
 * which a command's bytes and its reply's bytes travel instead of the gRPC stream. The bytes are
 * the stream's own (a serialized {@link ServerCommand}, a serialized {@link WorkerMessage}), so
 * both paths run the same codec and the worker the same handler.
 *
 * <p>Layout (little-endian): [0, 32) a random token, the co-location proof; at 64 the request
 * sequence (int64) and at 72 the request length (int32); at 128 the reply sequence, at 136
 * the reply length and at 140 its format (int32: 0 a serialized WorkerMessage, 1 a
 * {@link PackedStepReply}, when offered); the request area at 256 of {@code requestCapacity}
 * bytes; the reply area after it to the end. A sequence is the command id. A writer fills an area and its length with
 * plain stores, then publishes the sequence with a release store; the reader loads the sequence
 * with an acquire load before it reads the area, then rings the doorbell: one byte on a Unix
 * socket, so that the other side, after a short spin, sleeps in a blocking read (here a
 * {@link Selector}) instead of spinning. A sleeping thread leaves the CPU to the worker and
 * everything else, and the scheduler favours it on waking; on a busy machine spinning loses. The worker's side is Python (x86-TSO only:
 * see {@link #supported}).
 *
 * <p>The file and the doorbell's socket file are unlinked as soon as the worker has answered
 * the offer (either way): the mappings and the connection outlive the names, the kernel frees the pages when the last one goes, so no file is
 * left behind whoever dies. Not thread-safe: its {@link RemoteVectorEnv} calls it under its
 * call lock.
 */
public final class SharedMemoryRegion {
  /** The worker capability. */
  public static final String CAPABILITY = "shm_steps";
  static final int TOKEN_BYTES = 32;
  static final int REQUEST_SEQ = 64;
  static final int REQUEST_LENGTH = 72;
  static final int REPLY_SEQ = 128;
  static final int REPLY_LENGTH = 136;
  static final int REPLY_FORMAT = 140;
  static final int MESSAGE_FORMAT = 0;
  static final int PACKED_STEP_FORMAT = 1;
  static final int HEADER_BYTES = 256;
  /** The largest region offered; bigger messages take the stream anyway. */
  static final int MAX_AREA_BYTES = 8 << 20;
  private static final Path DIRECTORY = Path.of("/dev/shm");
  private static final VarHandle LONGS =
      MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final SecureRandom RANDOM = new SecureRandom();
  /**
   * A wait spins this long (Thread.onSpinWait) before it sleeps until the doorbell rings, when
   * spinning pays (see {@link #spinsNextWait}).
   */
  static final long SPIN_NANOS = 30_000;
  /** The longest sleep between looks at the deadline. */
  private static final long MAX_SLEEP_MILLIS = 100;

  private final Path path;
  private final byte[] token;
  private final int requestCapacity;
  private final int replyCapacity;
  private final MappedByteBuffer buffer;
  /** How this region's packed step replies are laid out; null: none are offered. */
  private final PackedStepReply packedSteps;
  private final ServerSocketChannel doorbellListener;
  private SocketChannel doorbell;
  private Selector rung;
  private final ByteBuffer ring = ByteBuffer.allocateDirect(1);
  private final ByteBuffer drain = ByteBuffer.allocateDirect(256);
  /**
   * Whether the next wait spins: whether the last reply came within the spin window. A worker
   * whose step takes longer (64 CartPole lanes, 16 HalfCheetah lanes: hundreds of µs) is never
   * caught by the spin, and on a busy machine the scheduler often wakes this thread on the
   * worker's own CPU (the doorbell's wake-up is a synchronous one): its spin then only delays
   * the worker it waits for (profiled: 30 µs a step, and one involuntary context switch of the
   * worker per step).
   */
  private boolean spinsNextWait = true;
  private boolean lastReplyPacked;

  private SharedMemoryRegion(Path path, byte[] token, int requestCapacity, int replyCapacity,
      MappedByteBuffer buffer, PackedStepReply packedSteps, ServerSocketChannel doorbellListener) {
    this.path = path;
    this.packedSteps = packedSteps;
    this.doorbellListener = doorbellListener;
    this.token = token;
    this.requestCapacity = requestCapacity;
    this.replyCapacity = replyCapacity;
    this.buffer = buffer;
    ring.put(0, (byte) 1);
  }

  /**
   * Whether this JVM can offer regions: /dev/shm exists, and the CPU is x86-64, whose TSO memory
   * model makes the Python worker's plain loads and stores ordered enough (Python has no
   * fences; on ARM they would be needed).
   */
  public static boolean supported() {
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    return (arch.equals("amd64") || arch.equals("x86_64")) && Files.isDirectory(DIRECTORY);
  }

  /**
   * Creates and maps a region file (readable and writable by this user only) with a fresh
   * token. The caller offers it, then {@link #unlink}s it whatever the answer.
   *
   * @param packedSteps the layout of the packed step replies it reads, or null for none
   */
  static SharedMemoryRegion create(String workerId, int requestCapacity, int replyCapacity,
      PackedStepReply packedSteps) throws IOException {
    if (requestCapacity < 1 || replyCapacity < 1 || requestCapacity > MAX_AREA_BYTES
        || replyCapacity > MAX_AREA_BYTES) {
      throw new IllegalArgumentException("region areas: expected 1.." + MAX_AREA_BYTES
          + " bytes each, got " + requestCapacity + " and " + replyCapacity);
    }
    byte[] token = new byte[TOKEN_BYTES];
    RANDOM.nextBytes(token);
    byte[] nameBits = new byte[8];
    RANDOM.nextBytes(nameBits);
    Path path = DIRECTORY.resolve(filePrefix() + workerId + "-"
        + HexFormat.of().formatHex(nameBits));
    int size = HEADER_BYTES + requestCapacity + replyCapacity;
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      try {
        Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions
            .fromString("rw-------"));
        MappedByteBuffer buffer = ch.map(FileChannel.MapMode.READ_WRITE, 0, size);
        buffer.order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(0, token);
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
          listener.bind(UnixDomainSocketAddress.of(doorbellPath(path)), 1);
          listener.configureBlocking(false);
        } catch (IOException | RuntimeException e) {
          listener.close();
          throw e;
        }
        return new SharedMemoryRegion(path, token, requestCapacity, replyCapacity, buffer,
            packedSteps, listener);
      } catch (IOException | RuntimeException e) {
        Files.deleteIfExists(path);
        Files.deleteIfExists(doorbellPath(path));
        throw e;
      }
    }
  }

  /** How this process's region files are named: "dsogym-PID-", then the worker id. */
  static String filePrefix() {
    return "dsogym-" + ProcessHandle.current().pid() + "-";
  }

  Path path() {
    return path;
  }

  /** Where the doorbell's socket is bound: beside the region file. */
  static Path doorbellPath(Path region) {
    return region.resolveSibling(region.getFileName() + ".sock");
  }

  int size() {
    return HEADER_BYTES + requestCapacity + replyCapacity;
  }

  int requestCapacity() {
    return requestCapacity;
  }

  /** Whether the worker may answer steps with packed replies (the offer says so). */
  boolean readsPackedSteps() {
    return packedSteps != null;
  }

  /** Whether the worker read this region's token (constant time, though nothing depends on it). */
  boolean proves(byte[] echoed) {
    return java.security.MessageDigest.isEqual(token, echoed);
  }

  /**
   * After the worker's answer: takes the doorbell connection the worker made before answering
   * (false when it made none) and stops listening.
   */
  boolean connectDoorbell() {
    try (ServerSocketChannel listener = doorbellListener) {
      SocketChannel ch = listener.accept();
      if (ch == null) {
        return false;
      }
      ch.configureBlocking(false);
      rung = Selector.open();
      ch.register(rung, SelectionKey.OP_READ);
      doorbell = ch;
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Removes the names of the file and the socket; what is mapped or connected stays. */
  void unlink() {
    try {
      doorbellListener.close();
      Files.deleteIfExists(path);
      Files.deleteIfExists(doorbellPath(path));
    } catch (IOException e) {
      // nothing more to do: a name that cannot be removed is reported by the leak test
    }
  }

  /** Hangs up the doorbell, which ends the worker's serving of the region. Idempotent. */
  void close() {
    try {
      if (rung != null) {
        rung.close();
      }
      if (doorbell != null) {
        doorbell.close();
      }
    } catch (IOException e) {
      // closing: nothing to recover
    }
  }

  /**
   * Writes {@code command} and publishes it under its id. Returns false, writing nothing, when
   * it does not fit (the caller sends it on the stream).
   */
  boolean offer(ServerCommand command) {
    int length = command.getSerializedSize();
    if (length > requestCapacity) {
      return false;
    }
    try {
      command.writeTo(com.google.protobuf.CodedOutputStream.newInstance(
          buffer.slice(HEADER_BYTES, length)));
    } catch (IOException e) {
      throw new IllegalStateException("region write: " + e.getMessage(), e);  // sized above
    }
    buffer.putInt(REQUEST_LENGTH, length);
    LONGS.setRelease(buffer, REQUEST_SEQ, command.getId());
    try {
      // the rings of earlier replies, which a spin saw first: drained here so that they never
      // fill the socket (they came before this command, so no wake-up is lost)
      drainDoorbell();
      doorbell.write(ring.clear());
    } catch (IOException e) {
      // the worker is gone: the stream's end fails the wait
    }
    return true;
  }

  /**
   * Waits for the worker's reply to command {@code id}: from the region, or from the stream
   * ({@code streamReply} completes: a reply too big for the region, or the stream's end, which
   * fails it). Spins briefly when that pays ({@link #spinsNextWait}), then sleeps until the
   * doorbell rings.
   *
   * @return the reply from the region, or null when {@code streamReply} completed first or the
   *     deadline passed (the caller tells which)
   */
  WorkerMessage await(long id, CompletableFuture<WorkerMessage> streamReply, long deadlineNanos)
      throws InterruptedException {
    long start = System.nanoTime();
    long spinUntil = start + (spinsNextWait ? SPIN_NANOS : 0);
    boolean wakeOnStream = false;
    boolean slept = false;
    while (true) {
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
      // one acquire load per check: the reply bytes are read only after it saw the id
      if ((long) LONGS.getAcquire(buffer, REPLY_SEQ) == id) {
        // found before any sleep, or after a sleep shorter than the spin window: a spin would
        // have caught it
        spinsNextWait = !slept || System.nanoTime() - start < SPIN_NANOS;
        return readReply(id);
      }
      if (streamReply.isDone()) {
        return null;
      }
      long now = System.nanoTime();
      if (now - deadlineNanos >= 0) {
        return null;
      }
      if (now - spinUntil < 0) {
        Thread.onSpinWait();
        continue;
      }
      if (!wakeOnStream) {
        streamReply.whenComplete((m, e) -> rung.wakeup());  // a reply or the end on the stream
        wakeOnStream = true;
      }
      slept = true;
      try {
        rung.select(Math.max(1, Math.min(MAX_SLEEP_MILLIS, (deadlineNanos - now) / 1_000_000)));
        rung.selectedKeys().clear();
        drainDoorbell();
      } catch (IOException e) {
        throw new IllegalArgumentException("region doorbell: " + e.getMessage(), e);
      }
    }
  }

  /** Whether the last reply read from the region was a packed step. */
  boolean lastReplyPacked() {
    return lastReplyPacked;
  }

  /** Whether the next {@link #await} spins before it sleeps (the last reply came quickly). */
  boolean spinsNextWait() {
    return spinsNextWait;
  }

  /** Reads the rings that came (their count does not matter: the sequences say what is new). */
  private void drainDoorbell() {
    int n;
    try {
      while ((n = doorbell.read(drain.clear())) > 0) {
        // keep reading
      }
    } catch (IOException e) {
      // reset by a worker that died with rings unread: a hang-up like any other. It is not a
      // malformed reply; the stream's end fails the wait with the worker's loss (UNAVAILABLE)
      n = -1;
    }
    if (n < 0) {
      SelectionKey key = doorbell.keyFor(rung);
      if (key != null) {
        key.cancel();  // hung up: sleep on the stream and the deadline alone
      }
    }
  }

  /**
   * The bytes one element of {@code space} takes in a tensor: what sizes the areas (a message
   * that still does not fit takes the stream).
   */
  static long elementBytes(Space space) {
    if (space instanceof Space.Box b) {
      return (long) b.size() * b.dtype().itemSize;
    }
    if (space instanceof Space.Discrete) {
      return 8;
    }
    if (space instanceof Space.MultiDiscrete m) {
      return 8L * m.nvec().length;
    }
    if (space instanceof Space.MultiBinary m) {
      return java.util.Arrays.stream(m.shape()).asLongStream().reduce(1, (x, y) -> x * y);
    }
    if (space instanceof Space.Dict d) {
      return d.spaces().values().stream().mapToLong(SharedMemoryRegion::elementBytes).sum();
    }
    return ((Space.Tuple) space).spaces().stream().mapToLong(SharedMemoryRegion::elementBytes)
        .sum();
  }

  private WorkerMessage readReply(long id) {
    int length = buffer.getInt(REPLY_LENGTH);
    if (length < 0 || length > replyCapacity) {
      throw new IllegalArgumentException("region reply #" + id + " length: expected 0.."
          + replyCapacity + ", got " + length);
    }
    int format = buffer.getInt(REPLY_FORMAT);
    lastReplyPacked = format == PACKED_STEP_FORMAT;
    java.nio.ByteBuffer reply = buffer.slice(HEADER_BYTES + requestCapacity, length);
    if (format == PACKED_STEP_FORMAT && packedSteps != null) {
      return packedSteps.decode(id, reply);
    }
    if (format != MESSAGE_FORMAT) {
      throw new IllegalArgumentException("region reply #" + id + " format: expected "
          + MESSAGE_FORMAT + (packedSteps != null ? " or " + PACKED_STEP_FORMAT : "") + ", got "
          + format);
    }
    try {
      return WorkerMessage.parseFrom(reply);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("region reply #" + id + ": not a WorkerMessage ("
          + e.getMessage() + ")", e);
    }
  }

  @Override
  public String toString() {
    return "SharedMemoryRegion(" + path + ", " + size() + " bytes)";
  }
}
