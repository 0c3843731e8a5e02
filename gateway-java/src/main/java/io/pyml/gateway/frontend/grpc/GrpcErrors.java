package io.pyml.gateway.frontend.grpc;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.Failures;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.RuntimeStatus;
import java.util.EnumMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/** The one table from the gateway's error vocabulary to gRPC statuses. */
public final class GrpcErrors {
  private static final Logger LOG = Logger.getLogger(GrpcErrors.class.getName());

  /** Carries the error kind, as the runtime does, so clients can branch without parsing. */
  public static final Metadata.Key<String> ERROR_KIND =
      Metadata.Key.of("pyml-error", Metadata.ASCII_STRING_MARSHALLER);

  static final Map<ErrorKind, Status.Code> CODES = new EnumMap<>(ErrorKind.class);

  static {
    CODES.put(ErrorKind.NOT_FOUND, Status.Code.NOT_FOUND);
    CODES.put(ErrorKind.INVALID_INPUT, Status.Code.INVALID_ARGUMENT);
    CODES.put(ErrorKind.FAILED_PRECONDITION, Status.Code.FAILED_PRECONDITION);
    CODES.put(ErrorKind.UNAVAILABLE, Status.Code.UNAVAILABLE);
    CODES.put(ErrorKind.DEADLINE_EXCEEDED, Status.Code.DEADLINE_EXCEEDED);
    CODES.put(ErrorKind.RESOURCE_EXHAUSTED, Status.Code.RESOURCE_EXHAUSTED);
    CODES.put(ErrorKind.MODEL_ERROR, Status.Code.INTERNAL);
    CODES.put(ErrorKind.INTERNAL, Status.Code.INTERNAL);
    CODES.put(ErrorKind.UNAUTHENTICATED, Status.Code.UNAUTHENTICATED);
    CODES.put(ErrorKind.PERMISSION_DENIED, Status.Code.PERMISSION_DENIED);
  }

  private GrpcErrors() {}

  public static Status.Code codeOf(ErrorKind kind) {
    return CODES.get(kind);
  }

  /** The status a client gets for any failure; unknown exceptions are logged as bugs. */
  public static StatusRuntimeException toStatus(Throwable error) {
    Throwable cause = Failures.unwrap(error);
    if (cause instanceof GatewayException e) {
      return e.runtimeStatus().map(GrpcErrors::passThrough).orElseGet(() -> fromGateway(e));
    }
    if (cause instanceof StatusRuntimeException e) {
      return e;
    }
    LOG.log(Level.SEVERE, "unexpected error in the gateway", cause);
    return fromGateway(new GatewayException(ErrorKind.INTERNAL,
        "internal gateway error: " + cause, cause));
  }

  private static StatusRuntimeException fromGateway(GatewayException e) {
    Metadata trailers = new Metadata();
    trailers.put(ERROR_KIND, e.kind().name());
    return codeOf(e.kind()).toStatus().withDescription(e.getMessage())
        .asRuntimeException(trailers);
  }

  /** The runtime's own status: same code, description and PyML trailers. */
  private static StatusRuntimeException passThrough(RuntimeStatus status) {
    Metadata trailers = new Metadata();
    status.trailers().forEach((key, value) ->
        trailers.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value));
    Status.Code code;
    try {
      code = Status.Code.valueOf(status.code());
    } catch (IllegalArgumentException e) {
      code = Status.Code.UNKNOWN;
    }
    return code.toStatus().withDescription(status.description()).asRuntimeException(trailers);
  }
}
