package io.pyml.gateway.sidecar;

import io.grpc.Metadata;
import io.grpc.Status;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.RuntimeStatus;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns a failed sidecar call into the gateway's vocabulary. Transport failures are described
 * by the gateway (naming the model); the runtime's own statuses are kept for pass-through.
 */
final class SidecarErrors {
  /** The runtime's error trailers all start with this; they are passed on to the client. */
  static final String TRAILER_PREFIX = "pyml-";
  static final String ERROR_TRAILER = "pyml-error";

  private SidecarErrors() {}

  static GatewayException translate(String model, Throwable error, Duration timeout) {
    Status status = Status.fromThrowable(error);
    String detail = status.getDescription() == null ? status.getCode().name()
        : status.getDescription();
    return switch (status.getCode()) {
      // CANCELLED too: a closed channel (runtime gone) cancels what was in flight.
      case UNAVAILABLE, CANCELLED -> new GatewayException(ErrorKind.UNAVAILABLE,
          "model '" + model + "' runtime is unavailable: " + detail, error);
      case DEADLINE_EXCEEDED -> new GatewayException(ErrorKind.DEADLINE_EXCEEDED,
          "model '" + model + "' did not answer within " + timeout.toMillis() + " ms", error);
      default -> {
        Map<String, String> trailers = pymlTrailers(Status.trailersFromThrowable(error));
        yield GatewayException.fromRuntime(kindOf(status.getCode(), trailers),
            new RuntimeStatus(status.getCode().name(), status.getDescription(), trailers));
      }
    };
  }

  private static ErrorKind kindOf(Status.Code code, Map<String, String> trailers) {
    return switch (code) {
      case INVALID_ARGUMENT -> ErrorKind.INVALID_INPUT;
      case NOT_FOUND -> ErrorKind.NOT_FOUND;
      case RESOURCE_EXHAUSTED -> ErrorKind.RESOURCE_EXHAUSTED;
      default -> "MODEL_ERROR".equals(trailers.get(ERROR_TRAILER))
          ? ErrorKind.MODEL_ERROR : ErrorKind.INTERNAL;
    };
  }

  private static Map<String, String> pymlTrailers(Metadata trailers) {
    Map<String, String> result = new LinkedHashMap<>();
    if (trailers == null) {
      return result;
    }
    for (String key : trailers.keys()) {
      if (key.startsWith(TRAILER_PREFIX) && !key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        String value = trailers.get(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
        if (value != null) {
          result.put(key, value);
        }
      }
    }
    return result;
  }
}
