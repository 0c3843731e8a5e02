package io.pyml.gateway.sidecar;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks whether a Unix socket accepts connections. Used while a runtime starts, instead of
 * gRPC calls, because a gRPC channel that failed to connect backs off for up to seconds.
 */
public final class SocketProbe {
  private SocketProbe() {}

  public static boolean accepts(Path socket) {
    if (!Files.exists(socket)) {
      return false;
    }
    try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      return channel.connect(UnixDomainSocketAddress.of(socket));
    } catch (IOException e) {
      return false;
    }
  }
}
