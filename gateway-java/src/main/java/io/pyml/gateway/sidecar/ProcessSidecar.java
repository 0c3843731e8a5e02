package io.pyml.gateway.sidecar;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A runtime running as a local child process. */
final class ProcessSidecar implements RunningSidecar {
  /** How long a runtime gets to finish in-flight work after SIGTERM before SIGKILL. */
  private static final long GRACE_SECONDS = 5;

  private final Process process;
  private final Path socketDir;
  private final List<Path> sockets;
  private final Path log;
  private final CompletableFuture<Integer> onExit;

  ProcessSidecar(Process process, Path socketDir, List<Path> sockets, Path log) {
    this.process = process;
    this.socketDir = socketDir;
    this.sockets = List.copyOf(sockets);
    this.log = log;
    this.onExit = process.onExit().thenApply(Process::exitValue);
  }

  @Override
  public Path socketPath() {
    return sockets.get(0);
  }

  @Override
  public List<Path> socketPaths() {
    return sockets;
  }

  @Override
  public CompletableFuture<Integer> onExit() {
    return onExit;
  }

  @Override
  public List<String> logTail(int lines) {
    return LogTail.read(log, lines);
  }

  @Override
  public void stop() {
    // Children first seen now: a wrapper script's python would otherwise outlive it.
    List<ProcessHandle> children = process.descendants().toList();
    process.destroy(); // SIGTERM: the runtime stops serving and exits
    boolean exited = waitFor(GRACE_SECONDS);
    children.forEach(ProcessHandle::destroy);
    if (!exited) {
      process.destroyForcibly();
      waitFor(GRACE_SECONDS);
    }
    children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    awaitExitNoted();
    SocketDirs.deleteRecursively(socketDir);
  }

  /**
   * The JDK completes {@code onExit} on a thread of its own, a moment after {@code waitFor}
   * saw the exit: a sidecar that stop() returned from reads as exited.
   */
  private void awaitExitNoted() {
    if (process.isAlive()) {
      return;
    }
    try {
      onExit.get(GRACE_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // Only the note of an exit that happened: nothing is left to stop.
    }
  }

  private boolean waitFor(long seconds) {
    try {
      return process.waitFor(seconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return !process.isAlive();
    }
  }
}
