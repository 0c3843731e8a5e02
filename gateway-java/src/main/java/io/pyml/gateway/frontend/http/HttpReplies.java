package io.pyml.gateway.frontend.http;

import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import java.nio.ByteBuffer;
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
}
