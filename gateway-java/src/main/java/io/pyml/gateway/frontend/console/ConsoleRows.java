package io.pyml.gateway.frontend.console;

import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Histogram;
import io.pyml.gateway.deployment.DeploymentState;
import io.pyml.gateway.deployment.DeploymentView;
import io.pyml.gateway.dispatch.DataPlane;
import io.pyml.gateway.frontend.console.ConsoleViews.DeploymentRow;
import io.pyml.gateway.frontend.console.ConsoleViews.GrantRow;
import io.pyml.gateway.frontend.console.ConsoleViews.ModelPage;
import io.pyml.gateway.frontend.console.ConsoleViews.ModelRow;
import io.pyml.gateway.frontend.console.ConsoleViews.Shell;
import io.pyml.gateway.identity.Access;
import io.pyml.gateway.identity.Caller;
import io.pyml.gateway.identity.Credentials;
import io.pyml.gateway.identity.Permission;
import io.pyml.gateway.metrics.GatewayMetrics;
import io.pyml.gateway.metrics.ModelStats;
import io.pyml.gateway.registry.ModelRegistry;
import io.pyml.gateway.registry.VersionManifest;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Builds what the console's pages show from the data plane, the registry and the metrics,
 * for one signed-in caller: only through {@link DataPlane} and {@link Access}, so the console
 * sees exactly what every other front end would let the same identity see.
 */
final class ConsoleRows {
  /** Rates are measured over at least this long between two readings. */
  private static final Duration RATE_WINDOW = Duration.ofSeconds(1);
  private static final int MAX_RATE_SAMPLES = 10_000;

  private final DataPlane plane;
  private final ModelRegistry registry;
  private final GatewayMetrics metrics;
  private final Clock clock;
  private final Map<String, Sample> samples = new ConcurrentHashMap<>();

  private record Sample(long calls, Instant at, double rate) {}

  ConsoleRows(DataPlane plane, ModelRegistry registry, GatewayMetrics metrics, Clock clock) {
    this.plane = plane;
    this.registry = registry;
    this.metrics = metrics;
    this.clock = clock;
  }

  /** A model name as one URL path segment (or query value). */
  static String path(String name) {
    return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
  }

  List<DeploymentRow> deployments(Credentials credentials) {
    return plane.deployments(credentials).stream().map(this::row).toList();
  }

  /** The registered models the caller may use (predict or more). */
  List<ModelRow> models(Credentials credentials, Caller caller) {
    Map<String, Long> live = new java.util.HashMap<>();
    plane.deployments(credentials).forEach(d -> live.put(d.name(), d.version()));
    return registry.names().stream()
        .filter(name -> plane.access().may(caller, name, Permission.PREDICT))
        .map(name -> {
          List<VersionManifest> versions = registry.manifests(name);
          Long deployed = live.get(name);
          return new ModelRow(name, path(name), versions.size(),
              versions.get(versions.size() - 1).version(),
              deployed == null ? "" : "version " + deployed);
        }).toList();
  }

  /** The model's page; empty when the caller may not see it or there is nothing to show. */
  Optional<ModelPage> model(Shell shell, Credentials credentials, Caller caller, String name) {
    Access access = plane.access();
    if (!access.may(caller, name, Permission.PREDICT)) {
      return Optional.empty();
    }
    List<VersionManifest> versions = registry.manifests(name);
    Optional<DeploymentView> deployment = plane.deployments(credentials).stream()
        .filter(d -> d.name().equals(name)).findFirst();
    if (versions.isEmpty() && deployment.isEmpty()) {
      return Optional.empty();
    }
    long live = deployment.map(DeploymentView::version).orElse(0L);
    long rollbackTo = versions.stream().filter(v -> v.ready() && v.version() < live)
        .mapToLong(VersionManifest::version).max().orElse(0);
    boolean mayAdmin = access.may(caller, name, Permission.ADMIN);
    List<GrantRow> grants = mayAdmin ? access.grants(credentials, name).stream()
        .map(g -> new GrantRow(g.identity(), g.permission().wireName(), g.grantedBy(),
            g.grantedAt().toString())).toList() : List.of();
    return Optional.of(new ModelPage(shell, name, path(name), versions,
        deployment.map(this::row), rollbackTo, access.may(caller, name, Permission.DEPLOY),
        mayAdmin, grants, libraries(credentials, deployment)));
  }

  private Map<String, String> libraries(Credentials credentials,
      Optional<DeploymentView> deployment) {
    if (deployment.isEmpty() || deployment.get().state() != DeploymentState.READY) {
      return Map.of();
    }
    try {
      return new java.util.TreeMap<>(plane.served(credentials, deployment.get().name(),
          OptionalLong.empty()).metadata().libraryVersions());
    } catch (GatewayException e) {
      return Map.of(); // swapped or stopped since it was listed
    }
  }

  DeploymentRow row(DeploymentView view) {
    ModelStats stats = metrics.stats(view.name());
    String uptime = view.state() == DeploymentState.READY && view.readySince().isPresent()
        ? duration(Duration.between(view.readySince().get(), clock.instant())) : "-";
    return new DeploymentRow(view.name(), path(view.name()), view.version(),
        view.state().name(), view.readyReplicas(), view.replicas(), view.restarts(), uptime,
        String.format(Locale.ROOT, "%.1f", rate(view.name(), stats.calls())),
        millis(stats.p50Seconds(), stats.calls()), millis(stats.p99Seconds(), stats.calls()),
        stats.calls(), stats.errors(), batch(view.admission().batchSizes()), view.reason());
  }

  /** Calls per second since the previous reading at least {@link #RATE_WINDOW} ago. */
  private double rate(String model, long calls) {
    Instant now = clock.instant();
    if (samples.size() > MAX_RATE_SAMPLES) {
      samples.clear();
    }
    Sample next = samples.compute(model, (key, last) -> {
      if (last == null) {
        return new Sample(calls, now, 0);
      }
      Duration since = Duration.between(last.at(), now);
      if (since.compareTo(RATE_WINDOW) < 0) {
        return last;
      }
      return new Sample(calls, now, Math.max(0, calls - last.calls()) * 1e3 / since.toMillis());
    });
    return next.rate();
  }

  private static String millis(double seconds, long calls) {
    return calls == 0 ? "-" : String.format(Locale.ROOT, "%.1f ms", seconds * 1e3);
  }

  private static String batch(Histogram.Snapshot sizes) {
    return sizes.count() == 0 ? "-"
        : String.format(Locale.ROOT, "%.1f avg", sizes.sum() / sizes.count());
  }

  static String duration(Duration d) {
    long s = Math.max(0, d.getSeconds());
    if (s < 60) {
      return s + " s";
    }
    if (s < 3600) {
      return s / 60 + " min " + s % 60 + " s";
    }
    return s / 3600 + " h " + (s % 3600) / 60 + " min";
  }
}
