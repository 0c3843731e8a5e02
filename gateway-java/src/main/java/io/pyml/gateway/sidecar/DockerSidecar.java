package io.pyml.gateway.sidecar;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.WaitResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/** A runtime running as a container: exit from Docker's wait, logs from Docker's log API. */
final class DockerSidecar implements RunningSidecar {
  private static final Logger LOG = Logger.getLogger(DockerSidecar.class.getName());
  /** Seconds a runtime gets to finish in-flight work after SIGTERM before SIGKILL. */
  private static final int GRACE_SECONDS = 5;
  private static final long LOG_READ_SECONDS = 5;

  private final DockerClient docker;
  private final String id;
  private final Path socketDir;
  private final List<Path> sockets;
  private final ResourceLimits limits;
  private static final long REWATCH_FIRST_MILLIS = 250;
  private static final long REWATCH_MAX_MILLIS = 5_000;
  /** About 10 minutes of tries (1 s doubling to 30 s) to remove a container Docker lost. */
  private static final int REMOVE_ATTEMPTS = 25;

  private final CompletableFuture<Integer> onExit = new CompletableFuture<>();
  private boolean stopped; // guarded by this
  private int lostWatches; // guarded by this

  DockerSidecar(DockerClient docker, String id, Path socketDir, List<Path> sockets,
      ResourceLimits limits) {
    this.docker = docker;
    this.id = id;
    this.socketDir = socketDir;
    this.sockets = List.copyOf(sockets);
    this.limits = limits;
    watchExit();
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

  /** Docker knows whether the kernel's OOM killer ended it; the exit code alone (137) does not. */
  @Override
  public String describeExit(int code) {
    try {
      InspectContainerResponse.ContainerState state = docker.inspectContainerCmd(id).exec()
          .getState();
      if (Boolean.TRUE.equals(state.getOOMKilled())) {
        return "out of memory (limit " + limits.memoryMiB() + " MiB): the runtime container "
            + "was killed by the kernel, exit code " + code;
      }
    } catch (RuntimeException e) {
      return "runtime container exited with code " + code + " (cannot inspect it: "
          + e.getMessage() + ")";
    }
    return "runtime container exited with code " + code;
  }

  /** SIGKILL/SIGTERM that the kernel's OOM killer did not send, or the engine lost track. */
  @Override
  public boolean killedFromOutside(int code) {
    if (code == -1) {
      return true;
    }
    if (code != 137 && code != 143) {
      return false;
    }
    try {
      return !Boolean.TRUE.equals(docker.inspectContainerCmd(id).exec().getState().getOOMKilled());
    } catch (RuntimeException e) {
      return true; // the engine does not answer: not the model's doing either
    }
  }

  @Override
  public List<String> logTail(int lines) {
    List<String> collected = new ArrayList<>();
    ResultCallback.Adapter<Frame> callback = new ResultCallback.Adapter<>() {
      @Override
      public void onNext(Frame frame) {
        synchronized (collected) {
          collected.add(new String(frame.getPayload(), StandardCharsets.UTF_8));
        }
      }
    };
    try {
      docker.logContainerCmd(id).withStdOut(true).withStdErr(true).withTail(lines)
          .exec(callback).awaitCompletion(LOG_READ_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      return List.of("(cannot read the logs of container " + shortId() + ": " + e.getMessage()
          + ")");
    }
    List<String> text;
    synchronized (collected) {
      // Frames need not align with lines: join, then split.
      text = List.of(String.join("", collected).split("\\r?\\n"));
    }
    List<String> result = text.stream().filter(line -> !line.isEmpty()).toList();
    return result.subList(Math.max(0, result.size() - lines), result.size());
  }

  @Override
  public boolean adoptable() {
    return true;
  }

  @Override
  public void stop() {
    synchronized (this) {
      if (stopped) {
        return;
      }
      stopped = true;
    }
    try {
      docker.stopContainerCmd(id).withTimeout(GRACE_SECONDS).exec();
    } catch (NotFoundException | NotModifiedException e) {
      // Already gone or already stopped: removing it below is all that is left.
    } catch (RuntimeException e) {
      LOG.warning("stopping container " + shortId() + ": " + e.getMessage());
    }
    removeLater(docker, id, 0);
    SocketDirs.deleteRecursively(socketDir);
  }

  /**
   * Removes the container; when Docker does not answer (an outage), tries again later with
   * capped backoff, a bounded number of times, so an outage does not leak containers until
   * the gateway stops.
   */
  private static void removeLater(DockerClient docker, String id, int attempt) {
    if (removeQuietly(docker, id) || attempt >= REMOVE_ATTEMPTS) {
      return;
    }
    long delay = Math.min(REWATCH_MAX_MILLIS * 6, 1000L << Math.min(attempt, 10));
    CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS)
        .execute(() -> removeLater(docker, id, attempt + 1));
  }

  /** True when the container is gone (removed now or before). */
  static boolean removeQuietly(DockerClient docker, String id) {
    try {
      docker.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
      return true;
    } catch (NotFoundException e) {
      return true; // already removed
    } catch (RuntimeException e) {
      LOG.warning("removing container " + id + ": " + e.getMessage());
      return false;
    }
  }

  private String shortId() {
    return id.substring(0, Math.min(12, id.length()));
  }

  /**
   * Docker's wait call returns when the container ends: that is the exit, with its code. When
   * the call itself fails (the engine restarts, a proxy drops the connection) the container may
   * well still serve: watch again, with capped backoff, rather than declare it dead. The
   * supervisor's health checks over the socket tell whether it still serves meanwhile.
   */
  private void watchExit() {
    docker.waitContainerCmd(id).exec(new ResultCallback.Adapter<WaitResponse>() {
      @Override
      public void onNext(WaitResponse response) {
        Integer code = response.getStatusCode();
        onExit.complete(code == null ? -1 : code);
      }

      @Override
      public void onError(Throwable error) {
        if (error instanceof NotFoundException) {
          LOG.warning("container " + shortId() + " is gone: " + error.getMessage());
          onExit.complete(-1);
          return;
        }
        watchAgain(error.toString());
      }

      @Override
      public void onComplete() {
        watchAgain("the wait call ended without an answer");
      }
    });
  }

  private void watchAgain(String why) {
    long delay;
    synchronized (this) {
      if (stopped || onExit.isDone()) {
        return;
      }
      delay = Math.min(REWATCH_MAX_MILLIS, REWATCH_FIRST_MILLIS << Math.min(lostWatches, 10));
      lostWatches++;
    }
    LOG.warning("lost the watch on container " + shortId() + " (" + why + "); watching again in "
        + delay + " ms");
    CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS).execute(this::watchExit);
  }
}
