package io.pyml.gateway.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.pyml.gateway.deployment.DeploymentManager;
import io.pyml.gateway.deployment.DeploymentView;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Serves {@code GET /metrics} for Prometheus on the gateway's HTTP port. The JDK's own HTTP
 * server: one endpoint, scraped every few seconds, needs no framework.
 */
public final class MetricsHttpServer implements AutoCloseable {
  private final HttpServer server;

  private MetricsHttpServer(HttpServer server) {
    this.server = server;
  }

  public static MetricsHttpServer start(String host, int port, GatewayMetrics metrics,
      DeploymentManager deployments) throws IOException {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(host, port), 16);
    } catch (IOException e) {
      throw new IOException("cannot serve HTTP on " + host + ":" + port + ": " + e.getMessage(),
          e);
    }
    server.createContext("/metrics", exchange -> {
      try (exchange) {
        if (!"GET".equals(exchange.getRequestMethod())) {
          send(exchange, 405, "only GET\n", "text/plain; charset=utf-8");
          return;
        }
        List<DeploymentView> views = deployments.list().stream()
            .map(d -> d.view()).toList();
        send(exchange, 200, PrometheusText.render(metrics, views), PrometheusText.CONTENT_TYPE);
      }
    });
    server.start();
    return new MetricsHttpServer(server);
  }

  public int port() {
    return server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }

  private static void send(HttpExchange exchange, int status, String body, String type)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }
}
