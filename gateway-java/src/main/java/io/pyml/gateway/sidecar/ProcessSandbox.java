package io.pyml.gateway.sidecar;

import java.io.File;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How a home-folder runtime runs on the gateway's host (development only): as much like a
 * container as a plain process can be.
 *
 * <ul>
 *   <li>A clean environment: PATH, LANG, PYTHONUNBUFFERED, PYTHONDONTWRITEBYTECODE and a
 *       private HOME/TMPDIR; none of the gateway's variables (DOCKER_HOST, credentials, ...).
 *   <li>Limits by {@code prlimit}: RLIMIT_DATA at the container memory limit (private writable
 *       memory, i.e. what a container's memory limit counts; RLIMIT_AS would also count the
 *       reserved-but-unused address space of thread stacks and malloc arenas and break the
 *       runtime at 1 GiB), open files, and RLIMIT_NPROC as a fork-bomb backstop (it counts
 *       every process of the uid on the host, containers' included, so it cannot be the
 *       container's per-runtime pids limit). CPU has no rlimit that fits a server.
 *   <li>When the gateway is root: uid/gid 65534, no groups, no capabilities, no-new-privs, by
 *       {@code setpriv}; the runtime then reads its home from a snapshot the gateway copies
 *       (like an image: read-only for it, symlinks copied as links, never followed), because
 *       the original may sit in folders uid 65534 cannot read, and must not be writable by it.
 * </ul>
 */
final class ProcessSandbox {
  static final int RUNTIME_UID = 65534;
  static final String SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  /** Per-user, shared with every uid-65534 container: room for many runtimes, not a bomb. */
  static final int NPROC = 4096;
  static final int NOFILE = 4096;
  private static final Set<PosixFilePermission> READ_DIR = PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Set<PosixFilePermission> READ_FILE = PosixFilePermissions.fromString("rw-r--r--");

  private final ResourceLimits limits;
  private final boolean dropPrivileges;

  /** The folders of one runtime inside its socket folder. */
  record Layout(Path home, Path runDir, Path tmpDir) {}

  ProcessSandbox(ResourceLimits limits, boolean dropPrivileges) {
    this.limits = limits;
    this.dropPrivileges = dropPrivileges;
  }

  /** Drops privileges exactly when the gateway runs as root. */
  static ProcessSandbox forThisProcess(ResourceLimits limits) {
    return new ProcessSandbox(limits, isRoot());
  }

  boolean dropsPrivileges() {
    return dropPrivileges;
  }

  /**
   * Lays out {@code socketDir}: {@code home/} (the snapshot, or the original home when the
   * runtime runs as the gateway's own user), {@code run/} for the socket, {@code tmp/} for
   * HOME and TMPDIR; the last two writable by the runtime only.
   */
  Layout prepare(Path home, Path socketDir) throws IOException {
    SocketDirs.create(socketDir);
    Path runDir = privateDir(socketDir.resolve("run"));
    Path tmpDir = privateDir(socketDir.resolve("tmp"));
    if (!dropPrivileges) {
      return new Layout(home, runDir, tmpDir);
    }
    // The runtime user needs to pass through (not list) the work dir and the socket folder.
    Files.setPosixFilePermissions(socketDir, SocketDirs.TRAVERSE);
    allowTraversal(socketDir.getParent());
    checkTraversable(socketDir.getParent());
    Path snapshot = socketDir.resolve("home");
    copyReadOnly(home, snapshot);
    return new Layout(snapshot, runDir, tmpDir);
  }

  /** {@code command} run by prlimit (and setpriv when dropping privileges). */
  List<String> wrap(List<String> command) throws IOException {
    List<String> wrapped = new ArrayList<>(List.of(resolveExecutable("prlimit").toString(),
        "--data=" + limits.memoryBytes(), "--nofile=" + NOFILE, "--nproc=" + NPROC, "--"));
    if (dropPrivileges) {
      wrapped.addAll(List.of(resolveExecutable("setpriv").toString(), "--reuid=" + RUNTIME_UID, "--regid=" + RUNTIME_UID,
          "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--"));
    }
    wrapped.addAll(command);
    return wrapped;
  }

  /** The whole environment of the runtime; {@code executable}'s folder first on PATH. */
  static Map<String, String> environment(Path executable, Path tmpDir) {
    Map<String, String> env = new LinkedHashMap<>();
    Path bin = executable.getParent();
    env.put("PATH", (bin == null ? "" : bin + ":") + SYSTEM_PATH);
    env.put("LANG", "C.UTF-8");
    env.put("PYTHONUNBUFFERED", "1"); // the log tail shows the runtime's last words
    env.put("PYTHONDONTWRITEBYTECODE", "1"); // the snapshot is read-only for the runtime
    env.put("HOME", tmpDir.toString());
    env.put("TMPDIR", tmpDir.toString());
    return env;
  }

  private Path privateDir(Path dir) throws IOException {
    SocketDirs.create(dir);
    if (dropPrivileges) {
      Files.setAttribute(dir, "unix:uid", RUNTIME_UID, LinkOption.NOFOLLOW_LINKS);
      Files.setAttribute(dir, "unix:gid", RUNTIME_UID, LinkOption.NOFOLLOW_LINKS);
    }
    return dir;
  }

  /** Adds search (x) permission for others, never read: the runtime finds only known names. */
  private static void allowTraversal(Path dir) throws IOException {
    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(dir);
    if (permissions.add(PosixFilePermission.OTHERS_EXECUTE)) {
      Files.setPosixFilePermissions(dir, permissions);
    }
  }

  /** Fails clearly, rather than with a runtime that cannot bind its socket. */
  private static void checkTraversable(Path dir) throws IOException {
    for (Path ancestor = dir.toAbsolutePath(); ancestor != null; ancestor = ancestor.getParent()) {
      if (!Files.getPosixFilePermissions(ancestor).contains(PosixFilePermission.OTHERS_EXECUTE)) {
        throw new IOException("the runtime user " + RUNTIME_UID + " cannot reach its socket "
            + "folder: " + ancestor + " is not searchable by others (chmod o+x, or choose "
            + "another --work-dir)");
      }
    }
  }

  /** Copies folders and regular files owned by root, readable by all; links as links. */
  static void copyReadOnly(Path source, Path target) throws IOException {
    Files.walkFileTree(source, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs)
          throws IOException {
        Path copy = target.resolve(source.relativize(dir).toString());
        Files.createDirectories(copy);
        Files.setPosixFilePermissions(copy, READ_DIR);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Path copy = target.resolve(source.relativize(file).toString());
        if (attrs.isSymbolicLink()) {
          Files.createSymbolicLink(copy, Files.readSymbolicLink(file));
        } else if (attrs.isRegularFile()) {
          Files.copy(file, copy, LinkOption.NOFOLLOW_LINKS, StandardCopyOption.REPLACE_EXISTING);
          boolean executable = Files.isExecutable(file);
          Files.setPosixFilePermissions(copy, executable ? READ_DIR : READ_FILE);
        } // sockets, fifos, devices: nothing a model needs, not copied
        return FileVisitResult.CONTINUE;
      }
    });
  }

  /** An executable's absolute path: as given when it has a folder, else found on PATH. */
  static Path resolveExecutable(String command) throws IOException {
    if (command.contains(File.separator)) {
      return Path.of(command).toAbsolutePath();
    }
    String path = Optional.ofNullable(System.getenv("PATH")).orElse(SYSTEM_PATH);
    for (String dir : path.split(File.pathSeparator)) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, command);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return candidate.toAbsolutePath();
      }
    }
    throw new IOException("'" + command + "' is not on the gateway's PATH (prlimit and setpriv "
        + "come with util-linux)");
  }

  private static boolean isRoot() {
    try {
      return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return false;
    }
  }
}
