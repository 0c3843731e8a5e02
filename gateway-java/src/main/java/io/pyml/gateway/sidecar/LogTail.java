package io.pyml.gateway.sidecar;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Reads the last lines of a log file without loading all of it (runtime logs can be large). */
final class LogTail {
  /** Enough for 20 long lines (tracebacks); a longer tail is cut at a line boundary. */
  private static final int MAX_TAIL_BYTES = 64 * 1024;

  private LogTail() {}

  static List<String> read(Path file, int lines) {
    if (lines <= 0 || !Files.isRegularFile(file)) {
      return List.of();
    }
    try (RandomAccessFile in = new RandomAccessFile(file.toFile(), "r")) {
      long length = in.length();
      int size = (int) Math.min(length, MAX_TAIL_BYTES);
      byte[] bytes = new byte[size];
      in.seek(length - size);
      in.readFully(bytes);
      // Invalid UTF-8 (a runtime printing binary) becomes U+FFFD instead of failing.
      List<String> all = new ArrayList<>(Arrays.asList(
          new String(bytes, StandardCharsets.UTF_8).split("\\r?\\n", -1)));
      if (size < length && !all.isEmpty()) {
        all.remove(0); // started mid-line
      }
      while (!all.isEmpty() && all.get(all.size() - 1).isEmpty()) {
        all.remove(all.size() - 1);
      }
      return List.copyOf(all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return List.of("(could not read " + file + ": " + e.getMessage() + ")");
    }
  }
}
