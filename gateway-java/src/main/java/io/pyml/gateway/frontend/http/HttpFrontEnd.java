package io.pyml.gateway.frontend.http;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.PathMappingsHandler;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The gateway's HTTP port on Jetty 12's own (non-servlet) handlers: requests are parsed, and
 * bodies read, without holding a thread, so a client that sends half a request and waits
 * delays no other (a scrape, an inference); it is dropped after {@code idle}. Threads and open
 * connections are capped. What is served is the {@link HttpRoutes} given; anything else is 404.
 */
public final class HttpFrontEnd implements AutoCloseable {
  private static final int THREADS = 8;

  private final Server server;
  private final ServerConnector connector;

  private HttpFrontEnd(Server server, ServerConnector connector) {
    this.server = server;
    this.connector = connector;
  }

  public static HttpFrontEnd start(String host, int port, Duration idle, int maxConnections,
      List<HttpRoutes> routes) throws IOException {
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
    PathMappingsHandler mappings = new PathMappingsHandler();
    routes.forEach(group -> group.addTo(mappings));
    server.setHandler(mappings);
    try {
      server.start();
    } catch (Exception e) {
      stopQuietly(server);
      throw new IOException("cannot serve HTTP on " + host + ":" + port + ": " + e.getMessage(),
          e);
    }
    return new HttpFrontEnd(server, connector);
  }

  public int port() {
    return connector.getLocalPort();
  }

  /** Takes no new connection (the gateway is stopping); the open ones go on. */
  public void stopAccepting() {
    connector.close();
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
}
