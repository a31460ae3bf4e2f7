package io.dsogym.train;

import io.dsogym.train.tensorboard.Event;
import io.dsogym.train.tensorboard.Summary;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * DIR/events.out.tfevents.TIME.HOST: the run's metrics as TensorBoard scalars, one event per
 * metrics row at step = env steps, each non-empty cell a scalar tagged with its column name.
 * There is no maintained pure-Java TensorBoard writer (TensorFlow Java's summary ops need its
 * 160 MB native library), so this writes the format itself: TensorBoard's Event protos
 * (proto/tensorboard/event.proto, same field numbers) in TFRecord framing, the first record
 * carrying the file version. Each row is flushed, so a live {@code tensorboard --logdir} sees
 * progress.
 */
final class TensorBoardLog implements AutoCloseable {
  static final String FILE_PREFIX = "events.out.tfevents.";
  static final String FILE_VERSION = "brain.Event:2";
  private static final int MASK_DELTA = 0xa282ead8;

  private final List<String> tags;
  private final OutputStream out;
  private final Path file;

  /**
   * Starts DIR's events file, replacing an earlier one: a resumed run replays the metrics rows
   * it keeps, so the file always holds exactly metrics.csv's rows.
   */
  TensorBoardLog(Path dir, List<String> tags) throws IOException {
    this.tags = List.copyOf(tags);
    try (DirectoryStream<Path> old = Files.newDirectoryStream(dir, FILE_PREFIX + "*")) {
      for (Path p : old) {
        Files.delete(p);
      }
    }
    long millis = System.currentTimeMillis();
    file = dir.resolve(FILE_PREFIX + millis / 1000 + "." + hostName());
    out = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE));
    write(Event.newBuilder().setWallTime(millis / 1000.0).setFileVersion(FILE_VERSION).build());
  }

  Path file() {
    return file;
  }

  /** One metrics row (values in the order of the tags; NaN = no value) at this step. */
  void row(long step, double[] values) throws IOException {
    Summary.Builder summary = Summary.newBuilder();
    for (int i = 0; i < values.length; i++) {
      if (!Double.isNaN(values[i])) {
        summary.addValue(Summary.Value.newBuilder().setTag(tags.get(i))
            .setSimpleValue((float) values[i]));
      }
    }
    write(Event.newBuilder().setWallTime(System.currentTimeMillis() / 1000.0).setStep(step)
        .setSummary(summary).build());
  }

  private void write(Event event) throws IOException {
    out.write(record(event.toByteArray()));
    out.flush();
  }

  /**
   * One TFRecord: the length (uint64 little-endian), the masked CRC32C of those 8 bytes, the
   * data, the masked CRC32C of the data (CRC fields are uint32 little-endian).
   */
  static byte[] record(byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(8 + 4 + data.length + 4).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(data.length);
    b.putInt(maskedCrc32c(b.array(), 0, 8));
    b.put(data);
    b.putInt(maskedCrc32c(data, 0, data.length));
    return b.array();
  }

  /**
   * TFRecord's masked CRC32C: rotated right by 15 bits plus a constant, because a CRC over
   * bytes that themselves hold CRCs is weak.
   */
  static int maskedCrc32c(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    int c = (int) crc.getValue();
    return ((c >>> 15) | (c << 17)) + MASK_DELTA;
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "localhost";  // only a file-name part: TensorBoard reads any name with the prefix
    }
  }

  @Override
  public void close() throws IOException {
    out.close();
  }
}
