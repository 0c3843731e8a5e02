package io.pyml.gateway.config;

import java.time.Duration;
import java.util.Objects;

/**
 * What one client may hold on the gateway's ports (gRPC, OIP, Thrift, HTTP), so a slow or
 * hostile client cannot starve the others.
 *
 * @param maxConnectionsPerPort open connections a port accepts; further ones are closed at once
 * @param maxStreamsPerConnection concurrent calls on one HTTP/2 connection (gRPC, OIP)
 * @param connectionIdle a connection with no call in flight for this long is closed
 * @param maxConnectionAge a gRPC connection is asked to reconnect (GOAWAY) after this long;
 *     calls in flight get {@link #MAX_CONNECTION_AGE_GRACE} to finish
 * @param requestReadTimeout a request (gRPC message, Thrift frame, HTTP request) must have
 *     arrived whole this long after it started, or its call is ended and its bytes freed
 * @param maxRstFramesPerWindow RST_STREAM frames one HTTP/2 connection may send in
 *     {@link #RST_WINDOW}; more ends the connection with GOAWAY (rapid-reset protection)
 * @param maxArrivingRequests requests of one gRPC/OIP port whose message is still arriving;
 *     more are refused RESOURCE_EXHAUSTED at once, so the partial messages a port holds are at
 *     most this many times the largest message
 */
public record TransportLimits(
    int maxConnectionsPerPort,
    int maxStreamsPerConnection,
    Duration connectionIdle,
    Duration maxConnectionAge,
    Duration requestReadTimeout,
    int maxRstFramesPerWindow,
    int maxArrivingRequests) {

  public static final Duration RST_WINDOW = Duration.ofSeconds(10);
  /** Longer than a Deploy may take by default, so a connection's age never cuts one short. */
  public static final Duration MAX_CONNECTION_AGE_GRACE = Duration.ofSeconds(150);
  /** Clients may ping at most this often (and only with calls in flight). */
  public static final Duration PERMIT_KEEPALIVE = Duration.ofSeconds(20);

  public static final TransportLimits DEFAULTS = new TransportLimits(
      256, 32, Duration.ofMinutes(5), Duration.ofHours(1), Duration.ofSeconds(30), 1000, 64);

  public TransportLimits {
    Objects.requireNonNull(connectionIdle, "connectionIdle");
    Objects.requireNonNull(maxConnectionAge, "maxConnectionAge");
    Objects.requireNonNull(requestReadTimeout, "requestReadTimeout");
    if (maxConnectionsPerPort < 1 || maxStreamsPerConnection < 1 || maxRstFramesPerWindow < 1
        || maxArrivingRequests < 1) {
      throw new IllegalArgumentException("transport limits must be positive");
    }
  }
}
