package io.pyml.gateway.sidecar;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The gateway's work dir: where runtimes' socket folders live. By default the same folder for
 * every run of a gateway id, so a restarted gateway finds the sockets of the containers it
 * adopts; short, because Unix socket paths are limited to 107 bytes.
 */
public final class WorkDirs {
  /** Longer ids are hashed to keep socket paths short. */
  private static final int MAX_ID_IN_PATH = 24;

  private WorkDirs() {}

  /** {@code /tmp/pyml-gw-<gateway id>} (a hash of the id when it is long). */
  public static Path defaultFor(String gatewayId) {
    String name = gatewayId.length() <= MAX_ID_IN_PATH ? gatewayId : hash(gatewayId);
    return Path.of("/tmp", "pyml-gw-" + name);
  }

  /**
   * Creates {@code dir} private to this user, or checks that the existing one is a real folder
   * (not a link) owned by this user: /tmp is shared, and a folder someone else made there in
   * advance could see or swap the runtimes' sockets.
   */
  public static Path ensurePrivate(Path dir) throws IOException {
    Path absolute = dir.toAbsolutePath().normalize();
    try {
      Files.createDirectory(absolute,
          PosixFilePermissions.asFileAttribute(SocketDirs.PRIVATE));
    } catch (java.nio.file.FileAlreadyExistsException e) {
      PosixFileAttributes attributes = Files.readAttributes(absolute, PosixFileAttributes.class,
          LinkOption.NOFOLLOW_LINKS);
      String me = System.getProperty("user.name");
      if (!attributes.isDirectory() || !attributes.owner().getName().equals(me)) {
        throw new IOException("work dir " + absolute + " exists but is "
            + (attributes.isDirectory() ? "owned by " + attributes.owner().getName()
            : "not a folder") + ", not a folder of " + me + "'s: refusing to put runtime "
            + "sockets there (remove it, or pass --work-dir)");
      }
    }
    Files.setPosixFilePermissions(absolute, SocketDirs.PRIVATE);
    return absolute;
  }

  /**
   * Removes the work dir at a normal stop, once its runtimes removed their folders; a folder
   * still in use (another gateway started with the same id, a runtime that did not stop) stays.
   */
  public static void removeIfEmpty(Path workDir) {
    try {
      Files.deleteIfExists(workDir);
    } catch (IOException e) {
      // Not empty: whatever is left there is someone's.
    }
  }

  private static String hash(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JRE has SHA-256", e);
    }
  }
}
