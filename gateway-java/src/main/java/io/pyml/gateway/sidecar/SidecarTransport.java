package io.pyml.gateway.sidecar;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes {@link SidecarClient}s over Unix domain sockets. Owns the one epoll event loop that all
 * runtime channels share (a loop per channel would waste threads on a 2-core machine).
 */
public final class SidecarTransport implements AutoCloseable {
  /** The prefix of the event loop's thread names. */
  static final String EVENT_LOOP_NAME = "pyml-sidecar-io";

  private final EventLoopGroup eventLoop;
  private final int maxInboundMessageBytes;

  /**
   * @param maxInboundMessageBytes the largest answer accepted from a runtime; outputs can be
   *     bigger than inputs, so callers pass a multiple of the payload limit
   */
  public SidecarTransport(int maxInboundMessageBytes) {
    // Fails here, with netty's reason, if the bundled epoll natives cannot load.
    Epoll.ensureAvailability();
    this.maxInboundMessageBytes = maxInboundMessageBytes;
    // Daemon threads: a forgotten close() must not keep the JVM alive.
    this.eventLoop = new MultiThreadIoEventLoopGroup(
        2, new DefaultThreadFactory(EVENT_LOOP_NAME, true), EpollIoHandler.newFactory());
  }

  public SidecarClient connect(String model, Path socket) {
    return connect(model, List.of(socket));
  }

  /** A client of a runtime's workers: a channel to each of {@code sockets}, worker 0's first. */
  public SidecarClient connect(String model, List<Path> sockets) {
    return new SidecarClient(model, sockets.stream().map(this::channel).toList());
  }

  /** The one place a runtime channel is built: every worker's channel is alike. */
  private ManagedChannel channel(Path socket) {
    return NettyChannelBuilder
        .forAddress(new DomainSocketAddress(socket.toString()))
        .eventLoopGroup(eventLoop)
        .channelType(EpollDomainSocketChannel.class, DomainSocketAddress.class)
        // grpc-java sets TCP keepalive on every channel; a Unix socket has none, and netty
        // warned about it for every runtime channel. null removes the option.
        .withOption(ChannelOption.SO_KEEPALIVE, null)
        .usePlaintext()
        // A small answer goes on from the event loop (completing futures, queueing the
        // client's write) instead of a hand-over to a pool thread per call; SidecarClient hands
        // failures and large answers to a pool, as they may lead to blocking or long work.
        .directExecutor()
        .maxInboundMessageSize(maxInboundMessageBytes)
        .build();
  }

  @Override
  public void close() {
    eventLoop.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }
}
