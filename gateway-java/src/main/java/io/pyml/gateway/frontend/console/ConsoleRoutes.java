package io.pyml.gateway.frontend.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pyml.gateway.core.Failures;
import io.pyml.gateway.dispatch.DataPlane;
import io.pyml.gateway.frontend.console.ConsoleSessions.Session;
import io.pyml.gateway.frontend.console.ConsoleViews.ErrorPage;
import io.pyml.gateway.frontend.console.ConsoleViews.Shell;
import io.pyml.gateway.frontend.http.HttpErrors;
import io.pyml.gateway.frontend.http.HttpReplies;
import io.pyml.gateway.frontend.http.HttpRoutes;
import io.pyml.gateway.identity.Caller;
import io.pyml.gateway.identity.Credentials;
import io.pyml.gateway.metrics.GatewayMetrics;
import io.pyml.gateway.registry.ModelRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.Optional;
import org.eclipse.jetty.http.pathmap.ServletPathSpec;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.PathMappingsHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.URIUtil;

/**
 * The web console under {@code /console} on the HTTP port: sign-in with a token to a
 * server-side session (an HttpOnly, SameSite=Strict cookie), then pages that call only the
 * {@link DataPlane} and its {@code Access} with the session's credentials, so the console
 * shows and does exactly what the same token could over any other protocol. Every POST
 * carries the session's CSRF token. Sessions are {@link ConsoleSignIn}'s, model pages and actions
 * {@link ConsoleModelRoutes}'.
 */
public final class ConsoleRoutes implements HttpRoutes {
  static final String ROOT = "/console";
  static final String CSRF_FIELD = "csrf";
  private static final int AUDIT_ROWS = 200;

  private final DataPlane plane;
  private final ConsoleSignIn signIn;
  private final ConsolePages pages = new ConsolePages();
  private final ConsoleRows rows;
  private final ConsoleModelRoutes models;
  private final ObjectMapper json = new ObjectMapper();
  private final byte[] css = resource("console.css");
  private final byte[] js = resource("console.js");

  /** Who a request comes from once its session is checked. */
  record Visitor(Session session, Caller caller, Shell shell) {
    Credentials credentials() {
      return session.credentials();
    }
  }

  public ConsoleRoutes(DataPlane plane, ModelRegistry registry, GatewayMetrics metrics,
      ConsoleSessions sessions, Clock clock) {
    this.plane = plane;
    this.signIn = new ConsoleSignIn(plane, sessions, pages);
    this.rows = new ConsoleRows(plane, registry, metrics, clock);
    this.models = new ConsoleModelRoutes(plane, rows, pages);
  }

  @Override
  public void addTo(PathMappingsHandler routes) {
    routes.addMapping(new ServletPathSpec(""), handler((request, response, callback) ->
        ConsolePages.redirect(request, response, callback, ROOT + "/models")));
    routes.addMapping(new ServletPathSpec(ROOT + "/*"), handler(this::dispatch));
  }

  private interface Route {
    void handle(Request request, Response response, Callback callback);
  }

  private Handler handler(Route route) {
    return new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        try {
          route.handle(request, response, callback);
        } catch (RuntimeException e) {
          pages.fail(request, response, callback, Optional.empty(), e);
        }
        return true;
      }
    };
  }

  private void dispatch(Request request, Response response, Callback callback) {
    String path = request.getHttpURI().getPath().substring(ROOT.length());
    String method = request.getMethod();
    if ("POST".equals(method) && !ConsoleSignIn.sameOrigin(request)) {
      pages.send(response, callback, 403, "error.jte", new ErrorPage(Optional.empty(), 403,
          "This form was posted from another site (its Origin is not this gateway)."));
      return;
    }
    switch (path) {
      case "/static/console.css" -> asset(response, callback, "text/css; charset=utf-8", css);
      case "/static/console.js" -> asset(response, callback, "text/javascript; charset=utf-8",
          js);
      case "/signin" -> signIn.signIn(request, response, callback);
      default -> signIn.withVisitor(request, response, callback, visitor -> {
        if ("POST".equals(method)) {
          posted(request, response, callback, visitor, path);
        } else if ("GET".equals(method)) {
          get(request, response, callback, visitor, path);
        } else {
          notFound(response, callback, visitor, "no console page " + path);
        }
      });
    }
  }

  private void get(Request request, Response response, Callback callback, Visitor visitor,
      String path) {
    switch (path) {
      case "", "/" -> ConsolePages.redirect(request, response, callback, ROOT + "/models");
      case "/models" -> pages.send(response, callback, 200, "models.jte",
          new ConsoleViews.ModelsPage(visitor.shell(),
              rows.models(visitor.credentials(), visitor.caller())));
      case "/deployments" -> pages.send(response, callback, 200, "deployments.jte",
          new ConsoleViews.DeploymentsPage(visitor.shell(),
              rows.deployments(visitor.credentials())));
      case "/api/deployments" -> sendJson(response, callback,
          rows.deployments(visitor.credentials()));
      case "/audit" -> audit(request, response, callback, visitor);
      default -> {
        Optional<String[]> model = modelPath(path);
        if (path.startsWith("/outcomes/") && path.indexOf('/', "/outcomes/".length()) < 0) {
          models.outcome(response, callback, visitor, path.substring("/outcomes/".length()));
        } else if (model.isPresent()) {
          models.get(request, response, callback, visitor, model.get()[0], model.get()[1]);
        } else {
          notFound(response, callback, visitor, "no console page " + path);
        }
      }
    }
  }

  /** A POST: its form is read without holding a thread, then its CSRF token is checked. */
  private void posted(Request request, Response response, Callback callback, Visitor visitor,
      String path) {
    HttpReplies.readBody(request, ConsoleForm.MAX_BYTES).whenComplete((body, error) -> {
      try {
        if (error != null) {
          Throwable cause = Failures.unwrap(error);
          if (cause instanceof UncheckedIOException) {
            callback.failed(cause);
            return;
          }
          throw cause instanceof RuntimeException e ? e : new ConsoleForm.Invalid(
              cause.getMessage());
        }
        ConsoleForm form = ConsoleForm.parse(body);
        if (!ConsoleSessions.csrfMatches(visitor.session(), form.raw(CSRF_FIELD))) {
          pages.send(response, callback, 403, "error.jte", new ErrorPage(
              Optional.of(visitor.shell()), 403, "This form is stale or was not sent by this"
                  + " console (its CSRF token does not match your session): reload the page"
                  + " and try again."));
          return;
        }
        if (path.equals("/signout")) {
          signIn.signOut(visitor.session(), response);
          ConsolePages.redirect(request, response, callback, ROOT + "/signin");
          return;
        }
        Optional<String[]> model = modelPath(path);
        if (model.isEmpty()) {
          notFound(response, callback, visitor, "no console action " + path);
          return;
        }
        models.post(request, response, callback, visitor, model.get()[0], model.get()[1],
            form);
      } catch (RuntimeException e) {
        pages.fail(request, response, callback, Optional.of(visitor.shell()), e);
      }
    });
  }

  private void audit(Request request, Response response, Callback callback, Visitor visitor) {
    String model = Optional.ofNullable(Request.extractQueryParameters(request).getValue("model"))
        .orElse("").strip();
    if (model.length() > ConsoleForm.MAX_NAME_CHARS || !ConsoleForm.printable(model)) {
      throw new ConsoleForm.Invalid("model must be at most " + ConsoleForm.MAX_NAME_CHARS
          + " printable characters");
    }
    pages.send(response, callback, 200, "audit.jte", new ConsoleViews.AuditPage(
        visitor.shell(), model, plane.access().audit(visitor.credentials(), model,
            AUDIT_ROWS)));
  }

  // --- replies -------------------------------------------------------------------------------

  /** {@code /models/<name>[/<what>]}: the decoded name and what (or ""). */
  static Optional<String[]> modelPath(String path) {
    String[] parts = path.split("/", -1);
    if (parts.length < 3 || parts.length > 4 || !parts[0].isEmpty()
        || !parts[1].equals("models") || parts[2].isEmpty()) {
      return Optional.empty();
    }
    String name;
    try {
      name = URIUtil.decodePath(parts[2]);
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    return Optional.of(new String[] {name, parts.length == 4 ? parts[3] : ""});
  }

  private void notFound(Response response, Callback callback, Visitor visitor, String what) {
    pages.send(response, callback, 404, "error.jte",
        new ErrorPage(Optional.of(visitor.shell()), 404, what));
  }

  private void sendJson(Response response, Callback callback, Object value) {
    byte[] body;
    try {
      body = json.writeValueAsBytes(value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    ConsolePages.secure(response);
    HttpReplies.send(response, callback, 200, HttpErrors.JSON, body);
  }

  private static void asset(Response response, Callback callback, String type, byte[] body) {
    response.getHeaders().put("X-Content-Type-Options", "nosniff");
    HttpReplies.send(response, callback, 200, type, body);
  }

  private static byte[] resource(String name) {
    try (InputStream in = ConsoleRoutes.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("the console's " + name + " is not in the jar");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
