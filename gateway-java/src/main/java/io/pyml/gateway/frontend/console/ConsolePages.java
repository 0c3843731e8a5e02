package io.pyml.gateway.frontend.console;

import gg.jte.ContentType;
import gg.jte.TemplateEngine;
import gg.jte.output.StringOutput;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.Failures;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.frontend.console.ConsoleViews.ErrorPage;
import io.pyml.gateway.frontend.console.ConsoleViews.Shell;
import io.pyml.gateway.frontend.http.HttpErrors;
import io.pyml.gateway.frontend.http.HttpReplies;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Renders the console's templates (src/main/jte, compiled to Java classes by the build: no
 * template compiler at serve time; every {@code ${...}} is HTML-escaped) and sends them with
 * headers that keep the pages to the gateway's own script and style and out of frames.
 */
public final class ConsolePages {
  static final String HTML = "text/html; charset=utf-8";
  static final String TEMPLATES = "io.pyml.gateway.frontend.console.templates";
  /** Only the gateway's own files; no inline script, no framing, forms post back here only. */
  static final String POLICY = "default-src 'self'; script-src 'self'; style-src 'self';"
      + " img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
      + " frame-ancestors 'none'";

  private final TemplateEngine engine = TemplateEngine.createPrecompiled(null, ContentType.Html,
      ConsolePages.class.getClassLoader(), TEMPLATES);

  /** {@code template} (e.g. "models.jte") rendered with its one parameter, {@code page}. */
  public String render(String template, Object page) {
    StringOutput out = new StringOutput();
    engine.render(template, page, out);
    return out.toString();
  }

  private static final Logger LOG = Logger.getLogger(ConsolePages.class.getName());

  void send(Response response, Callback callback, int status, String template, Object page) {
    String html = render(template, page);
    secure(response);
    HttpReplies.send(response, callback, status, HTML, html);
  }

  static void secure(Response response) {
    response.getHeaders().put("Content-Security-Policy", POLICY);
    response.getHeaders().put("X-Content-Type-Options", "nosniff");
    // Not no-referrer: with it a browser posts "Origin: null", and the Origin check refuses.
    response.getHeaders().put("Referrer-Policy", "same-origin");
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
  }

  static void redirect(Request request, Response response, Callback callback, String to) {
    ConsolePages.secure(response);
    Response.sendRedirect(request, response, callback, 303, to, true);
  }

  /** A failure as a page: bad form input 400, a data-plane refusal by its kind, else 500. */
  void fail(Request request, Response response, Callback callback, Optional<Shell> shell,
      Throwable error) {
    Throwable cause = Failures.unwrap(error);
    int status;
    String message;
    if (cause instanceof ConsoleForm.Invalid invalid) {
      status = 400;
      message = invalid.getMessage();
    } else if (cause instanceof HttpReplies.BodyTooLarge tooLarge) {
      status = HttpErrors.TOO_LARGE;
      message = tooLarge.getMessage();
    } else if (cause instanceof GatewayException e) {
      if (e.kind() == ErrorKind.UNAUTHENTICATED) {
        redirect(request, response, callback, ConsoleRoutes.ROOT + "/signin");
        return;
      }
      status = HttpErrors.statusOf(e.kind());
      message = e.getMessage();
    } else {
      LOG.log(Level.SEVERE, "console page failed", cause);
      status = 500;
      message = "internal gateway error: " + cause;
    }
    try {
      send(response, callback, status, "error.jte",
          new ErrorPage(shell, status, message));
    } catch (RuntimeException e) {
      callback.failed(e); // the response was already committed
    }
  }
}
