package io.pyml.gateway.frontend.console;

import io.pyml.gateway.identity.AuditEntry;
import io.pyml.gateway.registry.VersionManifest;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What each console page shows, already decided: the templates (src/main/jte) only lay these
 * out, and what the signed-in identity may not see is never put in them.
 */
public final class ConsoleViews {
  private ConsoleViews() {}

  /**
   * Who is signed in, on every page. {@code local}: the gateway has no identities, everyone
   * who reaches it (loopback only) is "local".
   */
  public record Shell(String identity, boolean local, boolean gatewayAdmin, String csrf) {}

  public record SignInPage(String error) {}

  /** {@code path}: the name as a URL path segment. {@code deployed}: its live version or "". */
  public record ModelRow(String name, String path, int versions, long newest, String deployed) {}

  public record ModelsPage(Shell shell, List<ModelRow> models) {}

  /** A deployment as the console shows it: figures already formatted. */
  public record DeploymentRow(String name, String path, long version, String state,
      int readyReplicas, int replicas, long restarts, String uptime, String rate, String p50,
      String p99, long calls, long errors, String batch, String reason) {}

  public record DeploymentsPage(Shell shell, List<DeploymentRow> deployments) {}

  public record GrantRow(String identity, String permission, String grantedBy,
      String grantedAt) {}

  /**
   * @param rollbackTo the newest ready version below the live one (0: none)
   * @param grants the model's ACL: only filled for its admins (mayAdmin)
   * @param libraries what the serving runtime reports (empty unless READY)
   */
  public record ModelPage(Shell shell, String name, String path, List<VersionManifest> versions,
      Optional<DeploymentRow> deployment, long rollbackTo, boolean mayDeploy, boolean mayAdmin,
      List<GrantRow> grants, Map<String, String> libraries) {}

  /** "Are you sure?" before {@code action} (deploy, undeploy) posts to {@code action}. */
  public record ConfirmPage(Shell shell, String name, String path, String action, long version,
      String question, String button) {}

  /** {@code pending}: still under way; the page reloads itself until it has ended. */
  public record OutcomePage(Shell shell, String name, String path, boolean ok, String title,
      String message, List<String> logLines, boolean pending) {}

  public record AuditPage(Shell shell, String model, List<AuditEntry> entries) {}

  public record ErrorPage(Optional<Shell> shell, int status, String message) {}
}
