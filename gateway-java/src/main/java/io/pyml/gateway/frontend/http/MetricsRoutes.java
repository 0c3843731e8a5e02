package io.pyml.gateway.frontend.http;

import io.pyml.gateway.metrics.GatewayMetrics;
import org.eclipse.jetty.http.pathmap.ServletPathSpec;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.PathMappingsHandler;
import org.eclipse.jetty.util.Callback;

/** {@code GET /metrics} (and anything under it) for Prometheus. */
public final class MetricsRoutes implements HttpRoutes {
  private final GatewayMetrics metrics;

  public MetricsRoutes(GatewayMetrics metrics) {
    this.metrics = metrics;
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
        HttpReplies.send(response, callback, 200, GatewayMetrics.contentType(),
            metrics.exposition());
        return true;
      }
    });
  }
}
