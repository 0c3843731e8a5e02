package io.pyml.gateway.state;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One gateway at a time per state folder. Two gateways with one id (or one {@code --state-dir})
 * would overwrite each other's desired deployments and remove or adopt each other's
 * containers, so the second one refuses to start. An OS lock on {@code lock} in the folder:
 * the kernel releases it when the process ends, {@code kill -9} included, so a restarted
 * gateway never finds a stale lock.
 */
public final class StateDirLock implements AutoCloseable {
  static final String FILE = "lock";

  private final FileChannel channel;
  private final FileLock lock;

  private StateDirLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** Takes the folder's lock, or fails naming the folder when another gateway holds it. */
  public static StateDirLock acquire(Path dir, String gatewayId) throws IOException {
    Files.createDirectories(dir);
    FileChannel channel = FileChannel.open(dir.resolve(FILE), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // held by another gateway in this JVM
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    if (lock == null) {
      channel.close();
      throw new IOException("another gateway is running with the state folder " + dir
          + " (gateway id '" + gatewayId + "'): two gateways with one id would remove each "
          + "other's containers; stop it, or start this one with another --gateway-id or "
          + "--state-dir");
    }
    return new StateDirLock(channel, lock);
  }

  @Override
  public void close() {
    try {
      lock.release();
      channel.close();
    } catch (IOException e) {
      // The process is stopping; the kernel releases the lock with the file.
    }
  }
}
