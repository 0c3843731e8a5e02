package io.pyml.gateway.frontend.oip;

import io.grpc.Server;
import io.pyml.gateway.core.SingleCopyMarshaller;
import io.pyml.gateway.dispatch.DataPlane;
import io.pyml.gateway.frontend.health.GatewayHealth;
import io.pyml.gateway.frontend.transport.GrpcTransport;
import io.pyml.oip.v2.GRPCInferenceServiceGrpc;
import io.pyml.oip.v2.ModelInferRequest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;

/** The OIP gRPC server on its own port (V2 clients expect 8001) and the Arrow memory it uses. */
public final class OipFrontEnd implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(OipFrontEnd.class.getName());

  private final Server server;
  private final BufferAllocator allocator;
  private final OipService service;

  private OipFrontEnd(Server server, BufferAllocator allocator, OipService service) {
    this.server = server;
    this.allocator = allocator;
    this.service = service;
  }

  public static OipFrontEnd start(String host, int port, int maxMessageBytes,
      GrpcTransport transport, DataPlane plane, GatewayHealth health)
      throws IOException {
    BufferAllocator allocator = new RootAllocator();
    OipService service = new OipService(plane, allocator, () -> health.readiness().ready());
    Server server = transport.builder(new InetSocketAddress(host, port))
        .maxInboundMessageSize(maxMessageBytes)
        // Requests parsed with one copy of their tensors' bytes, which are read as views.
        .addService(SingleCopyMarshaller.forRequests(TritonExtension.withModelConfig(service),
            GRPCInferenceServiceGrpc.getModelInferMethod(), ModelInferRequest.getDefaultInstance()))
        // The same states as the gRPC port's: a KServe probe may use either port.
        .addService(health.grpcService())
        .build();
    try {
      server.start();
    } catch (IOException e) {
      allocator.close();
      throw new IOException("cannot serve the Open Inference Protocol on " + host + ":" + port
          + ": " + e.getMessage(), e);
    }
    LOG.info("serving the Open Inference Protocol (gRPC) on " + host + ":" + server.getPort());
    return new OipFrontEnd(server, allocator, service);
  }

  /** The service, for the REST binding on the HTTP port (frontend/http): one conversion. */
  public OipService service() {
    return service;
  }

  public int port() {
    return server.getPort();
  }

  /** Refuses new calls (the gateway is stopping); the calls in flight go on. */
  public void stopAccepting() {
    server.shutdown();
  }

  /** Waits, at most {@code most}, for the calls in flight to end; true when they have. */
  public boolean awaitCalls(Duration most) throws InterruptedException {
    return server.awaitTermination(most.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public void close() {
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.shutdownNow();
    }
    allocator.close();
  }
}
