package io.dsogym.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * TFRecord framing of the events file against independent values: the CRC-32C check value of
 * "123456789" (RFC 3720, B.4), and TensorBoard's own Python writer
 * (tensorboard.summary.writer.record_writer.RecordWriter and masked_crc32c, tensorboard 2.21)
 * on the same bytes. tests/test_tensorboard_events.py reads whole runs with TensorBoard's reader.
 */
class TensorBoardLogTest {
  private static final byte[] CHECK = "123456789".getBytes(StandardCharsets.US_ASCII);

  @Test
  void theJdkCrc32cIsCastagnoli() {
    CRC32C crc = new CRC32C();
    crc.update(CHECK);
    assertEquals(0xE3069283L, crc.getValue());
  }

  @Test
  void maskedCrcMatchesTensorBoards() {
    assertEquals(0xC78AB0E5, TensorBoardLog.maskedCrc32c(CHECK, 0, CHECK.length));
  }

  @Test
  void recordMatchesTensorBoardsRecordWriterByteForByte() {
    byte[] expected = HexFormat.of().parseHex(
        "0900000000000000" + "37f97139" + "313233343536373839" + "e5b08ac7");
    assertArrayEquals(expected, TensorBoardLog.record(CHECK));
  }
}
