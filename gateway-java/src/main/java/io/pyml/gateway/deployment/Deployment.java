package io.pyml.gateway.deployment;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.gateway.sidecar.RunningSidecar;
import io.pyml.gateway.sidecar.RuntimeMetadata;
import io.pyml.gateway.sidecar.SidecarClient;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.logging.Logger;

/**
 * One attempt to serve a model version: its state, why it failed, and its runtime. Thread-safe:
 * the lifecycle, the runtime's exit watcher, undeploy and predictions all touch it at once.
 */
public final class Deployment {
  private static final Logger LOG = Logger.getLogger(Deployment.class.getName());
  private static final Duration GRACEFUL_CLOSE = Duration.ofSeconds(5);

  private final long id;
  private final DeploySpec spec;
  private final CompletableFuture<DeploymentView> settled = new CompletableFuture<>();

  // Guarded by this.
  private DeploymentState state = DeploymentState.PENDING;
  private String reason = "";
  private List<String> lastLogLines = List.of();
  private PayloadKind kind = PayloadKind.UNSPECIFIED;
  private Instant stateChangedAt = Instant.now();
  private RuntimeMetadata metadata;
  private RunningSidecar sidecar;
  private SidecarClient client;
  private boolean released;

  Deployment(long id, DeploySpec spec) {
    this.id = id;
    this.spec = spec;
  }

  /** Unique within this gateway; names the runtime's socket folder. */
  public long id() {
    return id;
  }

  public String name() {
    return spec.name();
  }

  public long version() {
    return spec.version();
  }

  public Path home() {
    return spec.home();
  }

  public synchronized DeploymentState state() {
    return state;
  }

  public synchronized String reason() {
    return reason;
  }

  public synchronized PayloadKind kind() {
    return kind;
  }

  public synchronized DeploymentView view() {
    return new DeploymentView(spec.name(), spec.version(), state, reason, lastLogLines, kind,
        spec.home(), stateChangedAt);
  }

  /**
   * Completes once READY, or once FAILED or STOPPED and the runtime is released; with the
   * state reached. Every move to FAILED or STOPPED is followed by {@link #release}.
   */
  public CompletableFuture<DeploymentView> settled() {
    return settled;
  }

  /** A lifecycle step; throws IllegalStateException when the move is not allowed. */
  void advance(DeploymentState next) {
    if (!moveTo(next, "", List.of())) {
      throw new IllegalStateException("model '" + name() + "' cannot move from " + state()
          + " to " + next);
    }
  }

  /**
   * Marks the deployment FAILED; false (and no change) when it already failed or stopped.
   * A true answer obliges the caller to {@link #release} it.
   */
  boolean fail(String why, List<String> logLines) {
    return moveTo(DeploymentState.FAILED, why, logLines);
  }

  /** Marks the deployment STOPPED (undeployed or replaced); false when already STOPPED. */
  boolean markStopped() {
    return moveTo(DeploymentState.STOPPED, null, null);
  }

  synchronized void setKind(PayloadKind payloadKind) {
    this.kind = payloadKind;
  }

  /** What the runtime said about its model (schemas for OIP); empty before VALIDATING. */
  public synchronized Optional<RuntimeMetadata> metadata() {
    return Optional.ofNullable(metadata);
  }

  synchronized void setMetadata(RuntimeMetadata runtimeMetadata) {
    this.metadata = runtimeMetadata;
  }

  /** Hands over the launched runtime; false when the deployment ended meanwhile. */
  synchronized boolean attach(RunningSidecar runningSidecar, SidecarClient sidecarClient) {
    if (state.isTerminal()) {
      return false;
    }
    this.sidecar = runningSidecar;
    this.client = sidecarClient;
    return true;
  }

  /** The one path to the runtime's Predict: client requests and the validation input alike. */
  public CompletableFuture<Payload> predict(Payload payload, Duration timeout) {
    SidecarClient target;
    synchronized (this) {
      target = client;
    }
    if (target == null) {
      return CompletableFuture.failedFuture(new GatewayException(ErrorKind.UNAVAILABLE,
          "model '" + name() + "' has no running runtime (" + state() + ")"));
    }
    return target.predict(payload, timeout).handle((answer, error) -> {
      if (error == null) {
        return answer;
      }
      Throwable cause = error instanceof CompletionException ? error.getCause()
          : error;
      // Name the real reason (e.g. the runtime exited) rather than "channel shut down".
      if (cause instanceof GatewayException e && e.kind() == ErrorKind.UNAVAILABLE) {
        DeploymentView now = view();
        if (now.state().isTerminal()) {
          throw new GatewayException(ErrorKind.UNAVAILABLE, "model '" + name()
              + "' runtime is unavailable: " + now.state() + " (" + now.reason() + ")", cause);
        }
      }
      throw cause instanceof RuntimeException r ? r : new CompletionException(cause);
    });
  }

  /**
   * Lets go of the runtime: closes the channel (letting in-flight calls finish when
   * {@code graceful}, failing them at once otherwise) and stops the process. Blocking; once.
   */
  void release(boolean graceful) {
    RunningSidecar toStop;
    SidecarClient toClose;
    synchronized (this) {
      if (released) {
        return;
      }
      released = true;
      toStop = sidecar;
      toClose = client;
    }
    if (toClose != null) {
      if (graceful) {
        toClose.close();
        awaitQuietly(toClose);
      }
      toClose.closeNow();
    }
    if (toStop != null) {
      toStop.stop();
    }
    // Only now: whoever waits for a FAILED or STOPPED deployment finds its runtime gone.
    settled.complete(view());
  }

  private static void awaitQuietly(SidecarClient sidecarClient) {
    try {
      sidecarClient.awaitClosed(GRACEFUL_CLOSE);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** why/logLines null: keep the current ones (a stop keeps the reason of an earlier failure). */
  private boolean moveTo(DeploymentState next, String why, List<String> logLines) {
    DeploymentState previous;
    DeploymentView view;
    synchronized (this) {
      if (!state.canMoveTo(next)) {
        return false;
      }
      previous = state;
      state = next;
      stateChangedAt = Instant.now();
      if (why != null) {
        reason = why;
      }
      if (logLines != null) {
        lastLogLines = List.copyOf(logLines);
      }
      view = view();
    }
    // Outside the lock: listeners (routing switch) and logging must not run under it.
    LOG.info(String.format("model '%s' version %d (deployment #%d): %s -> %s%s", name(),
        version(), id, previous, next, view.reason().isEmpty() ? "" : ": " + view.reason()));
    if (next == DeploymentState.READY) {
      settled.complete(view); // FAILED and STOPPED settle in release(), once cleaned up
    }
    return true;
  }
}
