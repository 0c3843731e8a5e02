package io.pyml.gateway.frontend.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.RuntimeStatus;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class GrpcErrorsTest {

  @Test
  void everyErrorKindHasItsCode() {
    Map<ErrorKind, Status.Code> expected = Map.of(
        ErrorKind.NOT_FOUND, Status.Code.NOT_FOUND,
        ErrorKind.FAILED_PRECONDITION, Status.Code.FAILED_PRECONDITION,
        ErrorKind.INVALID_INPUT, Status.Code.INVALID_ARGUMENT,
        ErrorKind.UNAVAILABLE, Status.Code.UNAVAILABLE,
        ErrorKind.DEADLINE_EXCEEDED, Status.Code.DEADLINE_EXCEEDED,
        ErrorKind.RESOURCE_EXHAUSTED, Status.Code.RESOURCE_EXHAUSTED,
        ErrorKind.MODEL_ERROR, Status.Code.INTERNAL,
        ErrorKind.INTERNAL, Status.Code.INTERNAL,
        ErrorKind.UNAUTHENTICATED, Status.Code.UNAUTHENTICATED,
        ErrorKind.PERMISSION_DENIED, Status.Code.PERMISSION_DENIED);
    assertEquals(ErrorKind.values().length, expected.size(), "a new ErrorKind needs a code");
    for (ErrorKind kind : ErrorKind.values()) {
      assertNotNull(GrpcErrors.codeOf(kind), kind.name());
      StatusRuntimeException status =
          GrpcErrors.toStatus(new GatewayException(kind, "about " + kind));
      assertEquals(expected.get(kind), status.getStatus().getCode(), kind.name());
      assertEquals("about " + kind, status.getStatus().getDescription());
      assertEquals(kind.name(), status.getTrailers().get(GrpcErrors.ERROR_KIND));
    }
  }

  @Test
  void aRuntimeStatusPassesThroughUnchanged() {
    RuntimeStatus runtime = new RuntimeStatus("INTERNAL", "model 'm' raised ValueError: x",
        Map.of("pyml-error", "MODEL_ERROR", "pyml-exception-type", "ValueError"));
    StatusRuntimeException status = GrpcErrors.toStatus(
        new CompletionException(GatewayException.fromRuntime(ErrorKind.MODEL_ERROR, runtime)));
    assertEquals(Status.Code.INTERNAL, status.getStatus().getCode());
    assertEquals("model 'm' raised ValueError: x", status.getStatus().getDescription());
    assertEquals("MODEL_ERROR", status.getTrailers().get(GrpcErrors.ERROR_KIND));
    assertEquals("ValueError", status.getTrailers().get(
        Metadata.Key.of("pyml-exception-type", Metadata.ASCII_STRING_MARSHALLER)));
  }

  @Test
  void anUnexpectedExceptionIsInternal() {
    StatusRuntimeException status = GrpcErrors.toStatus(new IllegalStateException("bug"));
    assertEquals(Status.Code.INTERNAL, status.getStatus().getCode());
    assertEquals("internal gateway error: java.lang.IllegalStateException: bug",
        status.getStatus().getDescription());
  }
}
