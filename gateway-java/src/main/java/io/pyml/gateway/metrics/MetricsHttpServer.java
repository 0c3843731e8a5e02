package io.pyml.gateway.metrics;

import io.pyml.gateway.deployment.DeploymentManager;
import io.pyml.gateway.deployment.DeploymentView;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Serves {@code GET /metrics} for Prometheus on the gateway's HTTP port, on Jetty: requests are
 * parsed without holding a thread, so a client that sends half a request and waits delays no
 * scrape; it is dropped after {@code idle}. Threads and open connections are capped.
 */
public final class MetricsHttpServer implements AutoCloseable {
  private static final int THREADS = 8;

  private final Server server;
  private final ServerConnector connector;

  private MetricsHttpServer(Server server, ServerConnector connector) {
    this.server = server;
    this.connector = connector;
  }

  public static MetricsHttpServer start(String host, int port, Duration idle, int maxConnections,
      GatewayMetrics metrics, DeploymentManager deployments) throws IOException {
    QueuedThreadPool threads = new QueuedThreadPool(THREADS, 2);
    threads.setName("pyml-http");
    threads.setDaemon(true);
    Server server = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    ServerConnector connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
    connector.setHost(host);
    connector.setPort(port);
    connector.setIdleTimeout(idle.toMillis());
    server.addConnector(connector);
    server.addBean(new NetworkConnectionLimit(maxConnections, connector));
    server.setHandler(new MetricsHandler(metrics, deployments));
    try {
      server.start();
    } catch (Exception e) {
      stopQuietly(server);
      throw new IOException("cannot serve HTTP on " + host + ":" + port + ": " + e.getMessage(),
          e);
    }
    return new MetricsHttpServer(server, connector);
  }

  public int port() {
    return connector.getLocalPort();
  }

  @Override
  public void close() {
    stopQuietly(server);
  }

  private static void stopQuietly(Server server) {
    try {
      server.stop();
    } catch (Exception e) {
      // Stopping: nothing left to do with the error.
    }
  }

  private static final class MetricsHandler extends Handler.Abstract {
    private final GatewayMetrics metrics;
    private final DeploymentManager deployments;

    MetricsHandler(GatewayMetrics metrics, DeploymentManager deployments) {
      this.metrics = metrics;
      this.deployments = deployments;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      String path = Request.getPathInContext(request);
      if (!path.equals("/metrics") && !path.startsWith("/metrics/")) {
        return false; // Jetty answers 404
      }
      if (!"GET".equals(request.getMethod())) {
        send(response, callback, 405, "only GET\n", "text/plain; charset=utf-8");
        return true;
      }
      List<DeploymentView> views = deployments.list().stream().map(d -> d.view()).toList();
      send(response, callback, 200, PrometheusText.render(metrics, views),
          PrometheusText.CONTENT_TYPE);
      return true;
    }

    private static void send(Response response, Callback callback, int status, String body,
        String type) {
      response.setStatus(status);
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
      Content.Sink.write(response, true, body, callback);
    }
  }
}
