package io.pyml.gateway.frontend.thrift;

import io.pyml.gateway.config.TransportLimits;
import io.pyml.gateway.dispatch.DataPlane;
import io.pyml.thrift.v1.PredictionService;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.server.TThreadPoolServer;
import org.apache.thrift.transport.TServerSocket;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransportException;

/**
 * The Thrift server: framed transport, binary protocol, one thread per connection from a
 * bounded pool. Each connection reads only its own frames (see {@link BoundedFramedTransport}):
 * a slow or silent client holds its own thread until its idle or frame timeout and nothing
 * else, unlike libthrift's selector servers, whose read budget is shared by every connection.
 * A connection over {@code maxConnectionsPerPort} is closed as soon as it is accepted; a frame
 * over {@code maxFrameBytes} closes its connection (a Thrift server cannot answer a frame it
 * did not read).
 */
public final class ThriftFrontEnd implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ThriftFrontEnd.class.getName());

  private final TThreadPoolServer server;
  private final TServerSocket socket;
  private final ThreadPoolExecutor workers;
  private final Thread serving;

  private ThriftFrontEnd(TThreadPoolServer server, TServerSocket socket,
      ThreadPoolExecutor workers) {
    this.server = server;
    this.socket = socket;
    this.workers = workers;
    this.serving = new Thread(server::serve, "pyml-thrift");
    serving.setDaemon(true);
  }

  /** Binds now (so a taken port fails here) and serves on a thread of its own. */
  public static ThriftFrontEnd start(String host, int port, int maxFrameBytes,
      TransportLimits limits, DataPlane plane)
      throws IOException {
    // A direct hand-off: when every thread holds a connection, a new one is refused (closed).
    ThreadPoolExecutor workers = new ThreadPoolExecutor(0, limits.maxConnectionsPerPort(),
        60, TimeUnit.SECONDS, new SynchronousQueue<>(), runnable -> {
          Thread thread = Executors.defaultThreadFactory().newThread(runnable);
          thread.setName("pyml-thrift-connection");
          thread.setDaemon(true);
          return thread;
        });
    TServerSocket socket;
    try {
      socket = new CappedServerSocket(new InetSocketAddress(host, port), workers,
          limits.maxConnectionsPerPort());
    } catch (TTransportException e) {
      workers.shutdownNow();
      throw new IOException("cannot serve Thrift on " + host + ":" + port + ": "
          + e.getMessage(), e);
    }
    TThreadPoolServer.Args args = new TThreadPoolServer.Args(socket)
        .processor(new PredictionService.Processor<>(
            new ThriftPredictionHandler(plane)))
        .transportFactory(BoundedFramedTransport.factory(maxFrameBytes,
            limits.connectionIdle(), limits.requestReadTimeout()))
        // Lengths inside a message cannot exceed the frame that holds them.
        .protocolFactory(new TBinaryProtocol.Factory(maxFrameBytes, maxFrameBytes))
        .executorService(workers)
        .stopTimeoutVal(5)
        .stopTimeoutUnit(TimeUnit.SECONDS);
    ThriftFrontEnd frontEnd = new ThriftFrontEnd(new TThreadPoolServer(args), socket, workers);
    frontEnd.serving.start();
    LOG.info("serving Thrift on " + host + ":" + frontEnd.port());
    return frontEnd;
  }

  public int port() {
    return socket.getServerSocket().getLocalPort();
  }

  /**
   * Takes no new connection, and no new call on an open one (the gateway is stopping); the
   * call each connection is in goes on.
   */
  public void stopAccepting() {
    server.stop();
  }

  @Override
  public void close() {
    server.stop();
    try {
      serving.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    socket.close();
    workers.shutdownNow();
  }

  /**
   * Closes a connection over the cap as soon as it is accepted, before any byte is read (and
   * without the warning libthrift logs for each connection its full pool turns away).
   */
  private static final class CappedServerSocket extends TServerSocket {
    private final ThreadPoolExecutor workers;
    private final int maxConnections;

    CappedServerSocket(InetSocketAddress address, ThreadPoolExecutor workers, int maxConnections)
        throws TTransportException {
      super(address);
      this.workers = workers;
      this.maxConnections = maxConnections;
    }

    @Override
    public TSocket accept() throws TTransportException {
      while (true) {
        TSocket client = super.accept();
        if (workers.getActiveCount() < maxConnections) {
          return client;
        }
        client.close();
      }
    }
  }
}
