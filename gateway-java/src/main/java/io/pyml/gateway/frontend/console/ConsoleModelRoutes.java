package io.pyml.gateway.frontend.console;

import io.pyml.gateway.core.Failures;
import io.pyml.gateway.deployment.DeploymentState;
import io.pyml.gateway.deployment.DeploymentView;
import io.pyml.gateway.dispatch.DataPlane;
import io.pyml.gateway.frontend.console.ConsoleRoutes.Visitor;
import io.pyml.gateway.frontend.console.ConsoleViews.ConfirmPage;
import io.pyml.gateway.frontend.console.ConsoleViews.ErrorPage;
import io.pyml.gateway.frontend.console.ConsoleViews.OutcomePage;
import io.pyml.gateway.identity.Permission;
import io.pyml.gateway.sidecar.ResourceLimits;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * A model's page and its actions: deploy (or swap to) a version, roll back, undeploy (each
 * after a confirmation page, then an outcome page), grant and revoke. Whether a button is
 * shown is asked of {@code Access}; whether the action happens is decided by the data plane
 * itself when it is called with the session's credentials.
 */
final class ConsoleModelRoutes {
  private final DataPlane plane;
  private final ConsoleRows rows;
  private final ConsolePages pages;
  private final ConsoleOutcomes outcomes = new ConsoleOutcomes();

  ConsoleModelRoutes(DataPlane plane, ConsoleRows rows, ConsolePages pages) {
    this.plane = plane;
    this.rows = rows;
    this.pages = pages;
  }

  void get(Request request, Response response, Callback callback, Visitor visitor, String name,
      String what) {
    switch (what) {
      case "" -> {
        Optional<ConsoleViews.ModelPage> page = rows.model(visitor.shell(),
            visitor.credentials(), visitor.caller(), name);
        if (page.isEmpty()) {
          notFound(response, callback, visitor, name);
        } else {
          pages.send(response, callback, 200, "model.jte", page.get());
        }
      }
      case "confirm" -> confirm(request, response, callback, visitor, name);
      default -> notFound(response, callback, visitor, name);
    }
  }

  void post(Request request, Response response, Callback callback, Visitor visitor, String name,
      String what, ConsoleForm form) {
    switch (what) {
      case "deploy" -> deploy(request, response, callback, visitor, name,
          form.version("version"));
      case "undeploy" -> started(request, response, callback, visitor, name, "Undeploying",
          plane.undeploy(visitor.credentials(), name).thenApply(done -> new OutcomePage(
              visitor.shell(), name, ConsoleRows.path(name), true, "Undeployed",
              "Model '" + name + "' is undeployed.", List.of(), false)));
      case "grant" -> {
        Permission permission = form.permission("permission");
        plane.access().grant(visitor.credentials(), name, form.name("identity"), permission);
        backToModel(request, response, callback, name);
      }
      case "revoke" -> {
        plane.access().revokeGrant(visitor.credentials(), name, form.name("identity"));
        backToModel(request, response, callback, name);
      }
      default -> notFound(response, callback, visitor, name);
    }
  }

  /**
   * {@code /console/outcomes/<ticket>}: the action's outcome once it has ended; until then a
   * page that says what is under way (and the deployment's state) and reloads itself.
   */
  void outcome(Response response, Callback callback, Visitor visitor, String ticket) {
    Optional<ConsoleOutcomes.Pending> found = outcomes.find(visitor.session().id(), ticket);
    if (found.isEmpty()) {
      pages.send(response, callback, 404, "error.jte", new ErrorPage(
          Optional.of(visitor.shell()), 404, "No action '" + ticket + "' of this session."));
      return;
    }
    ConsoleOutcomes.Pending pending = found.get();
    OutcomePage page = pending.page().getNow(null);
    if (page == null) {
      String state = plane.deployments(visitor.credentials()).stream()
          .filter(d -> d.name().equals(pending.model())).map(d -> "version " + d.version()
              + " " + d.state()).reduce((a, b) -> a + ", " + b).orElse("");
      pages.send(response, callback, 200, "outcome.jte", new OutcomePage(visitor.shell(),
          pending.model(), ConsoleRows.path(pending.model()), true, pending.doing(),
          pending.doing() + " '" + pending.model() + "'"
              + (state.isEmpty() ? "" : " (now: " + state + ")") + "...", List.of(), true));
      return;
    }
    pages.send(response, callback, page.ok() ? 200 : 422, "outcome.jte",
        new OutcomePage(visitor.shell(), page.name(), page.path(), page.ok(), page.title(),
            page.message(), page.logLines(), false));
  }

  /** The "are you sure?" page, only for callers who may deploy the model. */
  private void confirm(Request request, Response response, Callback callback, Visitor visitor,
      String name) {
    if (!plane.access().may(visitor.caller(), name, Permission.DEPLOY)) {
      notFound(response, callback, visitor, name);
      return;
    }
    String query = Optional.ofNullable(request.getHttpURI().getQuery()).orElse("");
    ConsoleForm asked = ConsoleForm.parse(query.getBytes(StandardCharsets.ISO_8859_1));
    Optional<DeploymentView> live = plane.deployments(visitor.credentials()).stream()
        .filter(d -> d.name().equals(name)).findFirst();
    String path = ConsoleRows.path(name);
    String action = asked.raw("action");
    ConfirmPage page = switch (action) {
      case "deploy", "rollback" -> {
        long version = asked.version("version");
        String question = live.isEmpty() ? "Deploy version " + version + " of '" + name + "'?"
            : (action.equals("rollback") ? "Roll '" + name + "' back" : "Swap '" + name + "'")
                + " from version " + live.get().version() + " to version " + version
                + "? The new version takes the traffic once it is READY.";
        yield new ConfirmPage(visitor.shell(), name, path, "deploy", version, question,
            action.equals("rollback") ? "Roll back" : live.isEmpty() ? "Deploy" : "Swap");
      }
      case "undeploy" -> new ConfirmPage(visitor.shell(), name, path, "undeploy", 0,
          "Undeploy '" + name + "'" + live.map(d -> " (version " + d.version() + ")").orElse("")
              + "? It stops serving at once.", "Undeploy");
      default -> throw new ConsoleForm.Invalid("action must be deploy, rollback or undeploy"
          + " (got '" + action + "')");
    };
    pages.send(response, callback, 200, "confirm.jte", page);
  }

  private void deploy(Request request, Response response, Callback callback, Visitor visitor,
      String name, long version) {
    int replicas = plane.deployments(visitor.credentials()).stream()
        .filter(d -> d.name().equals(name)).mapToInt(DeploymentView::replicas).findFirst()
        .orElse(0);
    // Waits for READY (bounded by the deploy timeout), so the audit log records how it ended.
    CompletableFuture<OutcomePage> done = plane.deploy(visitor.credentials(), name, version, "",
        replicas, ResourceLimits.NONE, true).thenApply(view -> deployed(visitor, view));
    started(request, response, callback, visitor, name, "Deploying version " + version + " of",
        done);
  }

  private OutcomePage deployed(Visitor visitor, DeploymentView view) {
    boolean ready = view.state() == DeploymentState.READY;
    String message = "Model '" + view.name() + "' version " + view.version() + " is "
        + view.state() + " (" + view.readyReplicas() + "/" + view.replicas()
        + " replicas ready)" + (view.reason().isEmpty() ? "." : ": " + view.reason());
    return new OutcomePage(visitor.shell(), view.name(), ConsoleRows.path(view.name()), ready,
        ready ? "Deployed" : "Deploy failed", message, view.lastLogLines(), false);
  }

  /** Records the action under way and sends the browser to its outcome page. */
  private void started(Request request, Response response, Callback callback, Visitor visitor,
      String name, String doing, CompletableFuture<OutcomePage> outcome) {
    CompletableFuture<OutcomePage> page = outcome.exceptionally(error -> new OutcomePage(
        visitor.shell(), name, ConsoleRows.path(name), false, "Failed",
        String.valueOf(Failures.unwrap(error).getMessage()), List.of(), false));
    String ticket = outcomes.start(visitor.session().id(), name, doing, page);
    ConsolePages.redirect(request, response, callback,
        ConsoleRoutes.ROOT + "/outcomes/" + ticket);
  }

  private static void backToModel(Request request, Response response, Callback callback,
      String name) {
    ConsolePages.redirect(request, response, callback,
        ConsoleRoutes.ROOT + "/models/" + ConsoleRows.path(name) + "#acl");
  }

  /** The same answer whether the model does not exist or the caller may not see it. */
  private void notFound(Response response, Callback callback, Visitor visitor, String name) {
    pages.send(response, callback, 404, "error.jte", new ErrorPage(Optional.of(visitor.shell()),
        404, "No model '" + name + "' that you may see."));
  }
}
