package io.pyml.gateway.frontend.transport;

import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * A listening socket that accepts at most {@code maxOpen} connections at a time: grpc-java has
 * no such setting, and without it idle clients can hold a file descriptor each without bound.
 * A connection over the cap is closed as soon as it is accepted, before any byte is read.
 */
final class CappedServerSocketChannel extends NioServerSocketChannel {
  private static final Logger LOG = Logger.getLogger(CappedServerSocketChannel.class.getName());

  private final int maxOpen;
  private final AtomicInteger open = new AtomicInteger();

  CappedServerSocketChannel(int maxOpen) {
    this.maxOpen = maxOpen;
  }

  @Override
  protected int doReadMessages(List<Object> accepted) throws Exception {
    int before = accepted.size();
    int read = super.doReadMessages(accepted);
    for (int i = accepted.size() - 1; i >= before; i--) {
      Channel child = (Channel) accepted.get(i);
      if (open.incrementAndGet() > maxOpen) {
        open.decrementAndGet();
        accepted.remove(i);
        child.unsafe().closeForcibly();
        LOG.fine(() -> "refused a connection on " + localAddress() + ": " + maxOpen
            + " are open (max-connections-per-port)");
      } else {
        child.closeFuture().addListener(closed -> open.decrementAndGet());
      }
    }
    return read;
  }
}
