package io.pyml.gateway.frontend.http;

import io.pyml.gateway.core.Failures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/** How every route on the HTTP port answers: one place for statuses, types and bodies. */
public final class HttpReplies {
  private HttpReplies() {}

  /** Sends {@code body} and completes {@code callback} once written (never blocks a thread). */
  public static void send(Response response, Callback callback, int status, String type,
      String body) {
    send(response, callback, status, type, body.getBytes(StandardCharsets.UTF_8));
  }

  public static void send(Response response, Callback callback, int status, String type,
      byte[] body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
    response.write(true, ByteBuffer.wrap(body), callback);
  }

  /**
   * True if the request's method is {@code method}; else answers 405 with {@code Allow} and
   * returns false.
   */
  public static boolean allow(Request request, Response response, Callback callback,
      String method) {
    if (method.equals(request.getMethod())) {
      return true;
    }
    response.getHeaders().put(HttpHeader.ALLOW, method);
    send(response, callback, 405, "text/plain; charset=utf-8", "only " + method + "\n");
    return false;
  }

  /** A request body over what a route takes. */
  public static final class BodyTooLarge extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BodyTooLarge(String message) {
      super(message);
    }
  }

  /**
   * The whole body, read as it arrives without holding a thread (a client that stops half way
   * holds only its connection, until the idle timeout). Over {@code maxBytes}, fails with
   * {@link BodyTooLarge}: by Content-Length before a byte is read, else (chunked) as soon as
   * the bytes read pass it. Other failures are the connection's.
   */
  public static CompletableFuture<byte[]> readBody(Request request, int maxBytes) {
    long declared = request.getLength();
    if (declared > maxBytes) {
      return CompletableFuture.failedFuture(tooLarge(declared + " bytes", maxBytes));
    }
    return Content.Source.asByteArrayAsync(request, maxBytes).handle((body, error) -> {
      if (error == null) {
        return body;
      }
      Throwable cause = Failures.unwrap(error);
      // Jetty reports the size limit as an IllegalStateException; I/O and idle failures are
      // IOExceptions and TimeoutExceptions.
      if (cause instanceof IOException || cause instanceof TimeoutException) {
        throw new UncheckedIOException(new IOException(cause));
      }
      throw tooLarge("more than " + maxBytes + " bytes", maxBytes);
    });
  }

  private static BodyTooLarge tooLarge(String size, int maxBytes) {
    return new BodyTooLarge("request body of " + size + " is over the limit of " + maxBytes
        + " bytes");
  }
}
