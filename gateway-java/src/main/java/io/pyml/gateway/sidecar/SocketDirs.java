package io.pyml.gateway.sidecar;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Set;
import java.util.stream.Stream;

/** Creates and removes the per-runtime folders that hold a socket and a log. */
public final class SocketDirs {
  /** sun_path is 108 bytes on Linux, including the terminating NUL. */
  public static final int MAX_SOCKET_PATH_BYTES = 107;
  /** The owner only. */
  static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");
  /** The owner, and others may pass through to a name they know (never list it). */
  static final Set<PosixFilePermission> TRAVERSE = PosixFilePermissions.fromString("rwx--x--x");

  private SocketDirs() {}

  /** Creates {@code dir} readable only by this user, so no one else can reach the socket. */
  public static void create(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.setPosixFilePermissions(dir, PRIVATE);
  }

  /** Fails early with a clear message rather than letting bind() fail obscurely later. */
  public static void checkSocketPath(Path socket) throws IOException {
    int bytes = socket.toString().getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_SOCKET_PATH_BYTES) {
      throw new IOException("socket path " + socket + " is " + bytes + " bytes, over the "
          + MAX_SOCKET_PATH_BYTES + "-byte limit of Unix sockets: choose a shorter --work-dir");
    }
  }

  public static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    } catch (IOException | RuntimeException e) {
      // Best effort: a leftover folder under the work dir is harmless.
    }
  }
}
