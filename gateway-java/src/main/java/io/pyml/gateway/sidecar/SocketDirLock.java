package io.pyml.gateway.sidecar;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;

/**
 * The socket folder of a model container: the one host folder the container can reach (a
 * bind mount at /run/pyml). It is writable (0733: create, never list) only until the runtime
 * has created its socket; then the gateway, its owner, makes it 0711, so nothing can be
 * created, replaced or removed there by the container. The runtime (trusted PyML code) waits
 * for this before it loads the model ({@code --socket-lock-seconds}), so model code never
 * runs while the folder is writable. Works whatever the gateway's uid: it owns the folder.
 */
final class SocketDirLock {
  private static final Logger LOG = Logger.getLogger(SocketDirLock.class.getName());
  static final Set<PosixFilePermission> OPEN = PosixFilePermissions.fromString("rwx-wx-wx");
  static final Set<PosixFilePermission> LOCKED = SocketDirs.TRAVERSE;
  /** Longer than the runtime waits for the lock (60 s in the image): it gives up first. */
  static final Duration GIVE_UP_AFTER = Duration.ofSeconds(90);
  private static final long POLL_MILLIS = 20;
  private static final ScheduledExecutorService POLLER =
      Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "pyml-socket-lock");
        thread.setDaemon(true);
        return thread;
      });

  private SocketDirLock() {}

  /** Makes {@code socketDir} writable for the runtime's uid, until {@link #lockWhenBound}. */
  static void open(Path socketDir) throws IOException {
    Files.setPosixFilePermissions(socketDir, OPEN);
  }

  /**
   * Locks the folder as soon as every one of {@code sockets} (one per runtime worker, all in
   * the folder) exists (polled, bounded; off the caller).
   */
  static void lockWhenBound(List<Path> sockets) {
    long giveUp = System.nanoTime() + GIVE_UP_AFTER.toNanos();
    AtomicReference<ScheduledFuture<?>> task = new AtomicReference<>();
    task.set(POLLER.scheduleWithFixedDelay(() -> {
      if (tryLock(sockets) || System.nanoTime() > giveUp) {
        task.get().cancel(false);
      }
    }, POLL_MILLIS, POLL_MILLIS, TimeUnit.MILLISECONDS));
  }

  /** True when done: locked now, or nothing left to lock (the folder is gone). */
  static boolean tryLock(List<Path> sockets) {
    Path dir = sockets.get(0).getParent();
    try {
      if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
        return true;
      }
      if (!sockets.stream().allMatch(s -> Files.exists(s, LinkOption.NOFOLLOW_LINKS))) {
        return false;
      }
      Files.setPosixFilePermissions(dir, LOCKED);
      return true;
    } catch (IOException | RuntimeException e) {
      LOG.warning("cannot lock socket folder " + dir + ": " + e.getMessage());
      return false;
    }
  }
}
