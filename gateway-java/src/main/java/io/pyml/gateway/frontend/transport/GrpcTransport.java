package io.pyml.gateway.frontend.transport;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.pyml.gateway.config.TransportLimits;
import io.pyml.gateway.identity.Credentials;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The Netty server settings of the gateway's gRPC ports (gRPC and OIP), with the threads they
 * share: per-connection stream cap, rapid-reset protection, idle and age limits, keepalive
 * policy, a connection cap per port, a time limit on each request's arrival, the call's
 * credentials read into its context, and which calls run on the transport's threads
 * ({@link InlineCalls}). Close it after
 * the servers built from it.
 */
public final class GrpcTransport implements AutoCloseable {
  private final TransportLimits limits;
  private final InlineCalls inline;
  private final ExecutorService callPool;
  private final EventLoopGroup boss;
  private final EventLoopGroup workers;

  /**
   * @param inlineMethods the methods run on the transport's own threads while their caller
   *     checks in memory ({@link InlineCalls})
   * @param checksInMemory whether checking a caller's credentials asks nothing of the store
   */
  public GrpcTransport(TransportLimits limits, Set<String> inlineMethods,
      Predicate<Credentials> checksInMemory) {
    this.limits = limits;
    // One pool for the calls not run inline and the steps of inline calls that may not be.
    this.callPool = Executors.newCachedThreadPool(
        new DefaultThreadFactory("pyml-grpc-call", true));
    this.inline = new InlineCalls(inlineMethods, checksInMemory, callPool);
    this.boss = new NioEventLoopGroup(1, new DefaultThreadFactory("pyml-grpc-accept", true));
    this.workers = new NioEventLoopGroup(0, new DefaultThreadFactory("pyml-grpc-io", true));
  }

  /** A server builder for {@code address} with every limit set; add services and build. */
  public NettyServerBuilder builder(InetSocketAddress address) {
    long idleMs = limits.connectionIdle().toMillis();
    return NettyServerBuilder.forAddress(address)
        .bossEventLoopGroup(boss)
        .workerEventLoopGroup(workers)
        // Direct: only the method lookup runs here (on the transport thread, memory only);
        // InlineCalls then sends each call to the pool or keeps it inline.
        .directExecutor()
        .callExecutor(inline)
        .channelFactory(() -> new CappedServerSocketChannel(limits.maxConnectionsPerPort()))
        .maxConcurrentCallsPerConnection(limits.maxStreamsPerConnection())
        .maxRstFramesPerWindow(limits.maxRstFramesPerWindow(),
            (int) TransportLimits.RST_WINDOW.toSeconds())
        .maxConnectionIdle(idleMs, TimeUnit.MILLISECONDS)
        .maxConnectionAge(limits.maxConnectionAge().toMillis(), TimeUnit.MILLISECONDS)
        .maxConnectionAgeGrace(TransportLimits.MAX_CONNECTION_AGE_GRACE.toMillis(),
            TimeUnit.MILLISECONDS)
        .permitKeepAliveTime(TransportLimits.PERMIT_KEEPALIVE.toMillis(), TimeUnit.MILLISECONDS)
        .permitKeepAliveWithoutCalls(false)
        // A connection that never finishes its HTTP/2 preface is not idle in gRPC's sense.
        .handshakeTimeout(limits.requestReadTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .intercept(new CallerCredentials())
        .intercept(new RequestArrivalDeadline(limits.requestReadTimeout(),
            limits.maxArrivingRequests()));
  }

  @Override
  public void close() {
    callPool.shutdown();
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS);
  }
}
