package io.pyml.gateway.frontend.console;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyml.gateway.frontend.console.ConsoleViews.AuditPage;
import io.pyml.gateway.frontend.console.ConsoleViews.ConfirmPage;
import io.pyml.gateway.frontend.console.ConsoleViews.DeploymentRow;
import io.pyml.gateway.frontend.console.ConsoleViews.DeploymentsPage;
import io.pyml.gateway.frontend.console.ConsoleViews.ErrorPage;
import io.pyml.gateway.frontend.console.ConsoleViews.GrantRow;
import io.pyml.gateway.frontend.console.ConsoleViews.ModelPage;
import io.pyml.gateway.frontend.console.ConsoleViews.ModelRow;
import io.pyml.gateway.frontend.console.ConsoleViews.ModelsPage;
import io.pyml.gateway.frontend.console.ConsoleViews.OutcomePage;
import io.pyml.gateway.frontend.console.ConsoleViews.Shell;
import io.pyml.gateway.frontend.console.ConsoleViews.SignInPage;
import io.pyml.gateway.identity.AuditEntry;
import io.pyml.gateway.registry.VersionManifest;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Whatever a name holds (a model, an identity, a manifest's text), the pages show it as text. */
class ConsolePagesTest {
  static final String HOSTILE = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>";
  private final ConsolePages pages = new ConsolePages();
  private final Shell shell = new Shell(HOSTILE, false, true, "csrf\"><b>");

  private static void assertEscaped(String html) {
    assertFalse(html.contains("<script>alert"), html);
    assertFalse(html.contains("<img"), html);
    assertFalse(html.contains("\"><b>"), html);
    assertTrue(html.contains("&lt;script&gt;"), html);
  }

  @Test
  void everyPageEscapesHostileNames() {
    String path = ConsoleRows.path(HOSTILE);
    DeploymentRow row = new DeploymentRow(HOSTILE, path, 2, "READY", 1, 1, 0, "1 s", "0.0",
        "-", "-", 0, 0, "-", HOSTILE);
    VersionManifest version = new VersionManifest(HOSTILE, 2, "ready", HOSTILE, HOSTILE,
        HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE,
        List.of(HOSTILE));
    List<String> rendered = List.of(
        pages.render("models.jte", new ModelsPage(shell,
            List.of(new ModelRow(HOSTILE, path, 1, 2, HOSTILE)))),
        pages.render("model.jte", new ModelPage(shell, HOSTILE, path, List.of(version),
            Optional.of(row), 1, true, true,
            List.of(new GrantRow(HOSTILE, "predict", HOSTILE, HOSTILE)),
            Map.of(HOSTILE, HOSTILE))),
        pages.render("deployments.jte", new DeploymentsPage(shell, List.of(row))),
        pages.render("confirm.jte", new ConfirmPage(shell, HOSTILE, path, "deploy", 2,
            HOSTILE, HOSTILE)),
        pages.render("outcome.jte", new OutcomePage(shell, HOSTILE, path, false, HOSTILE,
            HOSTILE, List.of(HOSTILE), false)),
        pages.render("audit.jte", new AuditPage(shell, HOSTILE, List.of(new AuditEntry(1,
            Instant.EPOCH, HOSTILE, HOSTILE, HOSTILE, 1, HOSTILE, HOSTILE)))),
        pages.render("error.jte", new ErrorPage(Optional.of(shell), 404, HOSTILE)),
        pages.render("signin.jte", new SignInPage(HOSTILE)));
    rendered.forEach(ConsolePagesTest::assertEscaped);
  }

  @Test
  void linksCarryTheNameUrlEncoded() {
    String html = pages.render("models.jte", new ModelsPage(shell,
        List.of(new ModelRow("a b/../c", ConsoleRows.path("a b/../c"), 1, 1, ""))));
    assertTrue(html.contains("href=\"/console/models/a%20b%2F..%2Fc\""), html);
  }

  @Test
  void whatTheCallerMayNotDoIsNotRendered() {
    DeploymentRow row = new DeploymentRow("m", "m", 2, "READY", 1, 1, 0, "1 s", "0.0", "-",
        "-", 0, 0, "-", "");
    String html = pages.render("model.jte", new ModelPage(shell, "m", "m", List.of(),
        Optional.of(row), 1, false, false, List.of(), Map.of()));
    for (String id : new String[] {"id=\"rollback\"", "id=\"undeploy\"", "id=\"grant-form\"",
        "id=\"acl\"", "class=\"button deploy\""}) {
      assertFalse(html.contains(id), id);
    }
  }
}
