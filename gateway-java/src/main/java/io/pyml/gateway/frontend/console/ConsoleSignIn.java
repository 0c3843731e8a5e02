package io.pyml.gateway.frontend.console;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.Failures;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.dispatch.DataPlane;
import io.pyml.gateway.frontend.console.ConsoleSessions.Session;
import io.pyml.gateway.frontend.console.ConsoleViews.Shell;
import io.pyml.gateway.frontend.console.ConsoleViews.SignInPage;
import io.pyml.gateway.frontend.http.HttpErrors;
import io.pyml.gateway.frontend.http.HttpReplies;
import io.pyml.gateway.identity.Caller;
import io.pyml.gateway.identity.Credentials;
import java.util.Optional;
import org.eclipse.jetty.http.HttpCookie;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Who a console request comes from: sign-in with a token (checked by {@code Access}, as on
 * any port) opens a {@link ConsoleSessions} session held by an HttpOnly, SameSite=Strict
 * cookie; each request's session is checked again against {@code Access}, so a revoked token
 * ends it. Without identities everyone is "local".
 */
final class ConsoleSignIn {
  static final String COOKIE = "pyml_console";

  private final DataPlane plane;
  private final ConsoleSessions sessions;
  private final ConsolePages pages;

  ConsoleSignIn(DataPlane plane, ConsoleSessions sessions, ConsolePages pages) {
    this.plane = plane;
    this.sessions = sessions;
    this.pages = pages;
  }

  void signOut(Session session, Response response) {
    sessions.close(session.id());
    clearCookie(response);
  }

  void signIn(Request request, Response response, Callback callback) {
    if (!plane.access().enabled()) {
      ConsolePages.redirect(request, response, callback, ConsoleRoutes.ROOT + "/models"); // open: nobody signs in
      return;
    }
    if ("GET".equals(request.getMethod())) {
      pages.send(response, callback, 200, "signin.jte", new SignInPage(""));
      return;
    }
    if (!HttpReplies.allow(request, response, callback, "POST")) {
      return;
    }
    HttpReplies.readBody(request, ConsoleForm.MAX_BYTES).whenComplete((body, error) -> {
      try {
        if (error != null) {
          Throwable cause = Failures.unwrap(error);
          throw cause instanceof RuntimeException e ? e : new ConsoleForm.Invalid(
              cause.getMessage());
        }
        Credentials credentials = Credentials.fromAuthorization(
            ConsoleForm.parse(body).token("token"));
        plane.access().whoAmI(credentials); // UNAUTHENTICATED (and audited) if unknown
        Session session = sessions.open(credentials);
        setCookie(response, session);
        ConsolePages.redirect(request, response, callback, ConsoleRoutes.ROOT + "/models");
      } catch (ConsoleForm.Invalid e) {
        pages.send(response, callback, 400, "signin.jte", new SignInPage(e.getMessage()));
      } catch (GatewayException e) {
        pages.send(response, callback, HttpErrors.statusOf(e.kind()), "signin.jte",
            new SignInPage(e.kind() == ErrorKind.UNAUTHENTICATED
                ? "That token is unknown, revoked or expired." : e.getMessage()));
      } catch (RuntimeException e) {
        pages.fail(request, response, callback, Optional.empty(), e);
      }
    });
  }

  interface VisitorRoute {
    void handle(ConsoleRoutes.Visitor visitor);
  }

  /**
   * Runs {@code route} for the request's session: on a gateway without identities a session
   * is opened for "local" on first sight; otherwise no (or a revoked) session goes to sign-in.
   */
  void withVisitor(Request request, Response response, Callback callback,
      VisitorRoute route) {
    Optional<Session> session = cookie(request).flatMap(sessions::find);
    if (session.isEmpty() && !plane.access().enabled()) {
      session = Optional.of(sessions.open(Credentials.NONE));
      setCookie(response, session.get());
    }
    if (session.isPresent() && session.get().credentials().bearer().isEmpty()
        && plane.access().enabled()) {
      sessions.close(session.get().id()); // opened as "local" before identities came on
      clearCookie(response);
      session = Optional.empty();
    }
    if (session.isEmpty()) {
      ConsolePages.redirect(request, response, callback, ConsoleRoutes.ROOT + "/signin");
      return;
    }
    Caller caller;
    try {
      caller = plane.access().whoAmI(session.get().credentials());
    } catch (GatewayException e) {
      if (e.kind() != ErrorKind.UNAUTHENTICATED) {
        throw e;
      }
      sessions.close(session.get().id()); // its token was revoked, or identities came on
      clearCookie(response);
      ConsolePages.redirect(request, response, callback, ConsoleRoutes.ROOT + "/signin");
      return;
    }
    ConsoleRoutes.Visitor visitor = new ConsoleRoutes.Visitor(session.get(), caller,
        new Shell(caller.identity(), !plane.access().enabled(), caller.gatewayAdmin(),
            session.get().csrf()));
    try {
      route.handle(visitor);
    } catch (RuntimeException e) {
      pages.fail(request, response, callback, Optional.of(visitor.shell()), e); // with the menu
    }
  }

  /**
   * A browser's POST says where its page came from: it must be this gateway (beside the
   * SameSite cookie and the CSRF token; it also stops a sign-in posted by another site).
   * Clients that send no Origin are not browsers posting across sites.
   */
  static boolean sameOrigin(Request request) {
    String origin = request.getHeaders().get(HttpHeader.ORIGIN);
    String host = request.getHeaders().get(HttpHeader.HOST);
    return origin == null || (host != null && (origin.equals("http://" + host)
        || origin.equals("https://" + host)));
  }

  private static Optional<String> cookie(Request request) {
    return Request.getCookies(request).stream().filter(c -> COOKIE.equals(c.getName()))
        .map(HttpCookie::getValue).findFirst();
  }

  private void setCookie(Response response, Session session) {
    Response.putCookie(response, HttpCookie.build(COOKIE, session.id()).path("/")
        .httpOnly(true).sameSite(HttpCookie.SameSite.STRICT)
        .maxAge(sessions.lifetime().toSeconds()).build());
  }

  private static void clearCookie(Response response) {
    Response.putCookie(response, HttpCookie.build(COOKIE, "").path("/").httpOnly(true)
        .sameSite(HttpCookie.SameSite.STRICT).maxAge(0).build());
  }
}
