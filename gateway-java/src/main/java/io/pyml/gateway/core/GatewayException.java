package io.pyml.gateway.core;

import java.util.Objects;
import java.util.Optional;

/** A failure in the gateway's vocabulary; optionally the runtime's status to pass through. */
public final class GatewayException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorKind kind;
  private final transient RuntimeStatus runtimeStatus;

  public GatewayException(ErrorKind kind, String message) {
    this(kind, message, null, null);
  }

  public GatewayException(ErrorKind kind, String message, Throwable cause) {
    this(kind, message, null, cause);
  }

  private GatewayException(
      ErrorKind kind, String message, RuntimeStatus runtimeStatus, Throwable cause) {
    super(message, cause);
    this.kind = Objects.requireNonNull(kind, "kind");
    this.runtimeStatus = runtimeStatus;
  }

  /** An error the runtime reported; front ends answer with the runtime's own status. */
  public static GatewayException fromRuntime(ErrorKind kind, RuntimeStatus status) {
    return new GatewayException(kind, status.description(), status, null);
  }

  public ErrorKind kind() {
    return kind;
  }

  public Optional<RuntimeStatus> runtimeStatus() {
    return Optional.ofNullable(runtimeStatus);
  }
}
