package io.pyml.gateway.frontend.http;

import com.fasterxml.jackson.core.JsonFactory;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.JsonDocuments;
import io.pyml.gateway.core.Failures;
import io.pyml.gateway.core.GatewayException;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The one table from the gateway's error vocabulary to HTTP statuses, and the one way an error
 * is answered: {@code {"error": "<message>"}} (KServe V2's error body) with the status, and the
 * {@code pyml-error} header naming the error kind, as the gRPC trailer of the same name does.
 */
public final class HttpErrors {
  private static final Logger LOG = Logger.getLogger(HttpErrors.class.getName());
  /** The header naming the gateway's error kind, as the gRPC trailer of the same name. */
  public static final String ERROR_KIND = "pyml-error";
  public static final String JSON = "application/json";
  /** A body over the port's limit: refused by the HTTP layer itself (kind RESOURCE_EXHAUSTED). */
  public static final int TOO_LARGE = 413;

  static final Map<ErrorKind, Integer> STATUSES = new EnumMap<>(ErrorKind.class);

  static {
    STATUSES.put(ErrorKind.NOT_FOUND, 404);
    STATUSES.put(ErrorKind.INVALID_INPUT, 400);
    // The request is well formed, but what it names cannot be used as it is now.
    STATUSES.put(ErrorKind.FAILED_PRECONDITION, 409);
    STATUSES.put(ErrorKind.UNAVAILABLE, 503);
    STATUSES.put(ErrorKind.DEADLINE_EXCEEDED, 504);
    // A model's queue is full or a payload is over the gateway's limit: "not now, not this
    // much". Bodies over the port's own limit are 413 (TOO_LARGE).
    STATUSES.put(ErrorKind.RESOURCE_EXHAUSTED, 429);
    STATUSES.put(ErrorKind.MODEL_ERROR, 500);
    STATUSES.put(ErrorKind.INTERNAL, 500);
    STATUSES.put(ErrorKind.UNAUTHENTICATED, 401);
    STATUSES.put(ErrorKind.PERMISSION_DENIED, 403);
  }

  private HttpErrors() {}

  public static int statusOf(ErrorKind kind) {
    return STATUSES.get(kind);
  }

  /** What an error is answered with: a status, headers and the words of {"error"}. */
  public record ErrorReply(int status, Map<String, String> headers, String message) {}

  /** The answer to any failure; unknown exceptions are logged as bugs and answered INTERNAL. */
  public static ErrorReply of(Throwable error) {
    Throwable cause = Failures.unwrap(error);
    GatewayException failure;
    if (cause instanceof GatewayException e) {
      failure = e;
    } else {
      LOG.log(Level.SEVERE, "unexpected error in the gateway", cause);
      failure = new GatewayException(ErrorKind.INTERNAL, "internal gateway error: " + cause,
          cause);
    }
    return of(statusOf(failure.kind()), failure);
  }

  /** {@code failure} answered with {@code status}; a runtime's own trailers become headers. */
  public static ErrorReply of(int status, GatewayException failure) {
    Map<String, String> headers = new TreeMap<>();
    headers.put(ERROR_KIND, failure.kind().name());
    failure.runtimeStatus().ifPresent(runtime -> runtime.trailers().forEach((key, value) -> {
      if (key.startsWith("pyml-") && printable(value)) {
        headers.put(key, value);
      }
    }));
    return new ErrorReply(status, headers, failure.getMessage());
  }

  public static void reply(JsonFactory json, Response response, Callback callback,
      Throwable error) {
    reply(json, response, callback, of(error));
  }

  public static void reply(JsonFactory json, Response response, Callback callback, int status,
      GatewayException failure) {
    reply(json, response, callback, of(status, failure));
  }

  public static void reply(JsonFactory json, Response response, Callback callback,
      ErrorReply reply) {
    reply.headers().forEach((name, value) -> response.getHeaders().put(name, value));
    HttpReplies.send(response, callback, reply.status(), JSON, JsonDocuments.write(json, out -> {
      out.writeStartObject();
      out.writeStringField("error", reply.message());
      out.writeEndObject();
    }));
  }

  /** A header value the runtime sent that HTTP can carry as it is. */
  private static boolean printable(String value) {
    return value.length() <= 1024 && value.chars().allMatch(c -> c >= 0x20 && c < 0x7f);
  }
}
