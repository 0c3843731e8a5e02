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

  /**
   * The most bytes of a refused body read and dropped so that its connection stays usable
   * (Tomcat's {@code maxSwallowSize} is the same idea, and the same 2 MiB); a larger one is
   * refused unread and its connection closed.
   */
  static final long DRAINED_BYTES_MAX = 2L << 20;

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
   * {@link BodyTooLarge}: by Content-Length before a byte is kept (the body read and dropped
   * when at most {@link #DRAINED_BYTES_MAX}), else (chunked) as soon as the bytes read pass
   * it. Other failures are the connection's.
   */
  public static CompletableFuture<byte[]> readBody(Request request, int maxBytes) {
    long declared = request.getLength();
    if (declared > maxBytes) {
      BodyTooLarge refusal = tooLarge(declared + " bytes", maxBytes);
      if (declared > DRAINED_BYTES_MAX) {
        return CompletableFuture.failedFuture(refusal); // Jetty then closes the connection
      }
      // A client sends its whole body before it reads: answered before the body is read,
      // Jetty must close the connection, and the client may lose the answer and the next
      // request it sends on that connection. So a body of a bounded size is read (its length
      // bounds the bytes, Jetty's idle timeout a client that stops) and dropped first.
      CompletableFuture<byte[]> refused = new CompletableFuture<>();
      Content.Source.consumeAll(request, Callback.from(() -> refused.completeExceptionally(
          refusal), failure -> refused.completeExceptionally(refusal)));
      return refused;
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
