package io.pyml.gateway.frontend.http;

import io.pyml.gateway.deployment.DeploymentManager;
import io.pyml.gateway.deployment.DeploymentView;
import io.pyml.gateway.metrics.GatewayMetrics;
import io.pyml.gateway.metrics.PrometheusText;
import java.util.List;
import org.eclipse.jetty.http.pathmap.ServletPathSpec;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.PathMappingsHandler;
import org.eclipse.jetty.util.Callback;

/** {@code GET /metrics} (and anything under it) for Prometheus. */
public final class MetricsRoutes implements HttpRoutes {
  private final GatewayMetrics metrics;
  private final DeploymentManager deployments;

  public MetricsRoutes(GatewayMetrics metrics, DeploymentManager deployments) {
    this.metrics = metrics;
    this.deployments = deployments;
  }

  @Override
  public void addTo(PathMappingsHandler routes) {
    // "/metrics/*" also matches "/metrics" itself.
    routes.addMapping(new ServletPathSpec("/metrics/*"), new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        if (!HttpReplies.allow(request, response, callback, "GET")) {
          return true;
        }
        List<DeploymentView> views = deployments.list().stream().map(d -> d.view()).toList();
        HttpReplies.send(response, callback, 200, PrometheusText.CONTENT_TYPE,
            PrometheusText.render(metrics, views));
        return true;
      }
    });
  }
}
