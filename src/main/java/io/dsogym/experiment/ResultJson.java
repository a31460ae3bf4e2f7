package io.dsogym.experiment;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/** An experiment's result.json. */
final class ResultJson {
  private ResultJson() {}

  /** Written to a temporary file and renamed, so a reader never sees half a file. */
  static void write(Path file, Map<String, Object> value) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, new GsonBuilder().setPrettyPrinting().serializeNulls()
        .serializeSpecialFloatingPointValues().create().toJson(value) + "\n",
        StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
