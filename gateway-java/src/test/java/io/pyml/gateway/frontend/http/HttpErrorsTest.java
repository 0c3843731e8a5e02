package io.pyml.gateway.frontend.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.RuntimeStatus;
import io.pyml.gateway.frontend.http.HttpErrors.ErrorReply;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class HttpErrorsTest {

  @Test
  void everyErrorKindHasItsStatus() {
    Map<ErrorKind, Integer> expected = Map.of(
        ErrorKind.NOT_FOUND, 404,
        ErrorKind.FAILED_PRECONDITION, 409,
        ErrorKind.INVALID_INPUT, 400,
        ErrorKind.UNAVAILABLE, 503,
        ErrorKind.DEADLINE_EXCEEDED, 504,
        ErrorKind.RESOURCE_EXHAUSTED, 429,
        ErrorKind.MODEL_ERROR, 500,
        ErrorKind.INTERNAL, 500,
        ErrorKind.UNAUTHENTICATED, 401,
        ErrorKind.PERMISSION_DENIED, 403);
    assertEquals(ErrorKind.values().length, expected.size(), "a new ErrorKind needs a status");
    for (ErrorKind kind : ErrorKind.values()) {
      ErrorReply reply = HttpErrors.of(new GatewayException(kind, "about " + kind));
      assertEquals(new ErrorReply(expected.get(kind), Map.of("pyml-error", kind.name()),
          "about " + kind), reply);
    }
  }

  @Test
  void aRuntimeStatusKeepsItsWordsAndTrailers() {
    RuntimeStatus runtime = new RuntimeStatus("INTERNAL", "model 'm' raised ValueError: x",
        Map.of("pyml-error", "MODEL_ERROR", "pyml-exception-type", "ValueError",
            "pyml-bad", "line\r\nbreak", "other", "dropped"));
    ErrorReply reply = HttpErrors.of(
        new CompletionException(GatewayException.fromRuntime(ErrorKind.MODEL_ERROR, runtime)));
    assertEquals(new ErrorReply(500, Map.of("pyml-error", "MODEL_ERROR",
        "pyml-exception-type", "ValueError"), "model 'm' raised ValueError: x"), reply);
  }

  @Test
  void anUnexpectedExceptionIsInternal() {
    assertEquals(new ErrorReply(500, Map.of("pyml-error", "INTERNAL"),
        "internal gateway error: java.lang.IllegalStateException: bug"),
        HttpErrors.of(new IllegalStateException("bug")));
  }
}
