package io.pyml.gateway.frontend.thrift;

import io.pyml.gateway.deployment.DeploymentManager;
import io.pyml.gateway.dispatch.Dispatcher;
import io.pyml.thrift.v1.PredictionService;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.server.TThreadedSelectorServer;
import org.apache.thrift.transport.TNonblockingServerSocket;
import org.apache.thrift.transport.TNonblockingSocket;
import org.apache.thrift.transport.TTransportException;
import org.apache.thrift.transport.layered.TFramedTransport;

/**
 * The Thrift server: framed transport, binary protocol, non-blocking selector threads. A frame
 * over {@code maxFrameBytes} is refused before it is buffered: the connection is closed (a
 * Thrift server cannot answer a frame it did not read) and every other connection is unaffected.
 */
public final class ThriftFrontEnd implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ThriftFrontEnd.class.getName());

  private final TThreadedSelectorServer server;
  private final LimitedServerSocket socket;
  private final Thread serving;

  private ThriftFrontEnd(TThreadedSelectorServer server, LimitedServerSocket socket) {
    this.server = server;
    this.socket = socket;
    this.serving = new Thread(server::serve, "pyml-thrift");
    serving.setDaemon(true);
  }

  /** Binds now (so a taken port fails here) and serves on a thread of its own. */
  public static ThriftFrontEnd start(String host, int port, int maxFrameBytes,
      Dispatcher dispatcher, DeploymentManager deployments) throws IOException {
    LimitedServerSocket socket;
    try {
      socket = new LimitedServerSocket(new InetSocketAddress(host, port), maxFrameBytes);
    } catch (TTransportException e) {
      throw new IOException("cannot serve Thrift on " + host + ":" + port + ": "
          + e.getMessage(), e);
    }
    TThreadedSelectorServer.Args args = new TThreadedSelectorServer.Args(socket)
        .processor(new PredictionService.AsyncProcessor<>(
            new ThriftPredictionHandler(dispatcher, deployments)))
        .transportFactory(new TFramedTransport.Factory(maxFrameBytes))
        // Lengths inside a message cannot exceed the frame that holds them.
        .protocolFactory(new TBinaryProtocol.Factory(maxFrameBytes, maxFrameBytes))
        .selectorThreads(2)
        .workerThreads(4)
        .stopTimeoutVal(5)
        .stopTimeoutUnit(TimeUnit.SECONDS);
    ThriftFrontEnd frontEnd = new ThriftFrontEnd(new TThreadedSelectorServer(args), socket);
    frontEnd.serving.start();
    LOG.info("serving Thrift on " + host + ":" + frontEnd.port());
    return frontEnd;
  }

  public int port() {
    return socket.getPort();
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
  }

  /**
   * libthrift's non-blocking server checks each frame's announced size against the accepted
   * socket's own configuration, whose default (about 16 MB) is not the gateway's limit: every
   * accepted socket gets a fresh configuration, so setting it here touches no other socket.
   */
  private static final class LimitedServerSocket extends TNonblockingServerSocket {
    private final int maxFrameBytes;

    LimitedServerSocket(InetSocketAddress address, int maxFrameBytes)
        throws TTransportException {
      super(address);
      this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    public TNonblockingSocket accept() throws TTransportException {
      TNonblockingSocket accepted = super.accept();
      if (accepted != null) {
        accepted.getConfiguration().setMaxFrameSize(maxFrameBytes);
        accepted.getConfiguration().setMaxMessageSize(maxFrameBytes);
      }
      return accepted;
    }
  }
}
