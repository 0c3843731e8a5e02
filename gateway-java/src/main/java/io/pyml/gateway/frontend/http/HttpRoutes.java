package io.pyml.gateway.frontend.http;

import org.eclipse.jetty.server.handler.PathMappingsHandler;

/**
 * A group of routes on the gateway's HTTP port (metrics, V2 REST inference, later the console):
 * each adds its own path mappings, so a new group is a new class passed to
 * {@link HttpFrontEnd#start}, not an edit of the server.
 */
public interface HttpRoutes {
  /**
   * Adds this group's handlers. They run on the port's capped threads: a handler must not
   * block on a client (bodies are read asynchronously) nor on a model.
   */
  void addTo(PathMappingsHandler routes);
}
