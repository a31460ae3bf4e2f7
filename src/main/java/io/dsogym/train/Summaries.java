package io.dsogym.train;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/** DIR/summary.json, written atomically at the end of a run. */
public final class Summaries {
  private Summaries() {}

  public static void write(Path dir, Map<String, Object> summary) throws IOException {
    Path tmp = dir.resolve("summary.json.tmp");
    Files.writeString(tmp, new GsonBuilder().setPrettyPrinting().serializeNulls()
        .serializeSpecialFloatingPointValues().create().toJson(summary) + "\n",
        StandardCharsets.UTF_8);
    Files.move(tmp, dir.resolve("summary.json"), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
  }
}
