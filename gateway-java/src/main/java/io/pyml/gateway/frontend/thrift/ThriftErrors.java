package io.pyml.gateway.frontend.thrift;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.Failures;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.RuntimeStatus;
import io.pyml.thrift.v1.ErrorCode;
import io.pyml.thrift.v1.PymlError;
import java.util.EnumMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one table from the gateway's error vocabulary to Thrift's {@link PymlError}. Its codes are
 * the gRPC status codes, chosen by the same meaning as {@code GrpcErrors}, so a failure reads the
 * same on both wires; {@code details} carries what gRPC clients get as trailers.
 */
public final class ThriftErrors {
  private static final Logger LOG = Logger.getLogger(ThriftErrors.class.getName());
  /** The detail naming the gateway's error kind, as the gRPC trailer of the same name. */
  public static final String ERROR_KIND = "pyml-error";

  static final Map<ErrorKind, ErrorCode> CODES = new EnumMap<>(ErrorKind.class);

  static {
    CODES.put(ErrorKind.NOT_FOUND, ErrorCode.NOT_FOUND);
    CODES.put(ErrorKind.INVALID_INPUT, ErrorCode.INVALID_ARGUMENT);
    CODES.put(ErrorKind.UNAVAILABLE, ErrorCode.UNAVAILABLE);
    CODES.put(ErrorKind.DEADLINE_EXCEEDED, ErrorCode.DEADLINE_EXCEEDED);
    CODES.put(ErrorKind.RESOURCE_EXHAUSTED, ErrorCode.RESOURCE_EXHAUSTED);
    CODES.put(ErrorKind.FAILED_PRECONDITION, ErrorCode.FAILED_PRECONDITION);
    CODES.put(ErrorKind.MODEL_ERROR, ErrorCode.INTERNAL);
    CODES.put(ErrorKind.INTERNAL, ErrorCode.INTERNAL);
    CODES.put(ErrorKind.UNAUTHENTICATED, ErrorCode.UNAUTHENTICATED);
    CODES.put(ErrorKind.PERMISSION_DENIED, ErrorCode.PERMISSION_DENIED);
  }

  private ThriftErrors() {}

  public static ErrorCode codeOf(ErrorKind kind) {
    return CODES.get(kind);
  }

  /** The exception a client gets for any failure; unknown exceptions are logged as bugs. */
  public static PymlError toPymlError(Throwable error) {
    Throwable cause = Failures.unwrap(error);
    if (cause instanceof GatewayException e) {
      return e.runtimeStatus().map(ThriftErrors::passThrough).orElseGet(() -> fromGateway(e));
    }
    LOG.log(Level.SEVERE, "unexpected error in the gateway", cause);
    return fromGateway(new GatewayException(ErrorKind.INTERNAL,
        "internal gateway error: " + cause, cause));
  }

  private static PymlError fromGateway(GatewayException e) {
    return new PymlError(codeOf(e.kind()), e.getMessage(), Map.of(ERROR_KIND, e.kind().name()));
  }

  /** The runtime's own status: same code (gRPC and Thrift share the names), message, details. */
  private static PymlError passThrough(RuntimeStatus status) {
    ErrorCode code;
    try {
      code = ErrorCode.valueOf(status.code());
    } catch (IllegalArgumentException e) {
      code = ErrorCode.UNKNOWN;
    }
    return new PymlError(code, status.description(), status.trailers());
  }
}
