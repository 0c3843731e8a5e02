package io.pyml.gateway.testing;

import com.google.protobuf.ByteString;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.pyml.proto.v1.AdminServiceGrpc;
import io.pyml.proto.v1.CreateTokenRequest;
import io.pyml.proto.v1.DeployRequest;
import io.pyml.proto.v1.Deployment;
import io.pyml.proto.v1.DeploymentState;
import io.pyml.proto.v1.GetDeploymentRequest;
import io.pyml.proto.v1.GrantRequest;
import io.pyml.proto.v1.Payload;
import io.pyml.proto.v1.PayloadKind;
import io.pyml.proto.v1.PredictRequest;
import io.pyml.proto.v1.PredictResponse;
import io.pyml.proto.v1.PredictionServiceGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assertions;

/** A gRPC client of the gateway's public API, as an SDK would use it. */
public final class TestClient implements AutoCloseable {
  public final ManagedChannel channel;
  public final PredictionServiceGrpc.PredictionServiceBlockingStub predictions;
  public final AdminServiceGrpc.AdminServiceBlockingStub admin;

  public TestClient(int port) {
    this(port, "");
  }

  /** Every call carrying {@code token} as its {@code authorization} (none when empty). */
  public TestClient(int port, String token) {
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
        .maxInboundMessageSize(Integer.MAX_VALUE).build();
    ClientInterceptor credentials = MetadataUtils.newAttachHeadersInterceptor(bearer(token));
    predictions = PredictionServiceGrpc.newBlockingStub(channel).withInterceptors(credentials);
    admin = AdminServiceGrpc.newBlockingStub(channel).withInterceptors(credentials);
  }

  /** The {@code authorization} metadata for {@code token} (empty metadata for none). */
  public static Metadata bearer(String token) {
    Metadata headers = new Metadata();
    if (!token.isEmpty()) {
      headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER),
          "Bearer " + token);
    }
    return headers;
  }

  /** A new token (a gateway admin's with {@code admin}), as the CLI makes one. */
  public String createToken(String identity, boolean gatewayAdmin) {
    return admin.createToken(CreateTokenRequest.newBuilder().setIdentity(identity)
        .setGatewayAdmin(gatewayAdmin).build()).getToken();
  }

  public void grant(String model, String identity, String permission) {
    admin.grant(GrantRequest.newBuilder().setModelName(model).setIdentity(identity)
        .setPermission(permission).build());
  }

  public Deployment deploy(String name, long version, Path home) {
    return admin.withDeadlineAfter(60, TimeUnit.SECONDS).deploy(DeployRequest.newBuilder()
        .setModelName(name).setModelVersion(version).setHomePath(home.toString())
        .setWait(true).build());
  }

  public Deployment deploy(String name, long version, Path home, int replicas) {
    return admin.withDeadlineAfter(60, TimeUnit.SECONDS).deploy(DeployRequest.newBuilder()
        .setModelName(name).setModelVersion(version).setHomePath(home.toString())
        .setReplicas(replicas).setWait(true).build());
  }

  /** Polls (bounded) until the deployment is in {@code state}; returns it, or fails. */
  public Deployment awaitState(String name, DeploymentState state, Duration within)
      throws InterruptedException {
    return await(name, d -> d.getState() == state, within);
  }

  /** Polls (bounded) until {@code done} holds; returns the deployment, or fails. */
  public Deployment await(String name, Predicate<Deployment> done, Duration within)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    Deployment now = get(name);
    while (!done.test(now) && System.nanoTime() < deadline) {
      Thread.sleep(50);
      now = get(name);
    }
    Assertions.assertTrue(done.test(now), now.toString());
    return now;
  }

  /** Polls (bounded) until {@code ready} replicas are ready; returns the deployment, or fails. */
  public Deployment awaitReplicas(String name, int ready, Duration within)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    Deployment now = get(name);
    while (now.getReadyReplicas() != ready && System.nanoTime() < deadline) {
      Thread.sleep(50);
      now = get(name);
    }
    Assertions.assertEquals(ready, now.getReadyReplicas(), now.toString());
    return now;
  }

  public Deployment get(String name) {
    return admin.withDeadlineAfter(10, TimeUnit.SECONDS)
        .getDeployment(GetDeploymentRequest.newBuilder().setModelName(name).build());
  }

  public static PredictRequest request(String model, PayloadKind kind, ByteString bytes) {
    return PredictRequest.newBuilder().setModelName(model)
        .setPayload(Payload.newBuilder().setKind(kind).setArrowIpc(bytes)).build();
  }

  public static PredictRequest request(String model, String text) {
    return request(model, PayloadKind.PAYLOAD_KIND_DATAFRAME, ByteString.copyFromUtf8(text));
  }

  public PredictResponse predict(PredictRequest request) {
    return predictions.withDeadlineAfter(30, TimeUnit.SECONDS).predict(request);
  }

  /** The error status of a call that must fail. */
  public StatusRuntimeException predictFails(PredictRequest request) {
    return Assertions.assertThrows(StatusRuntimeException.class, () -> predict(request));
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
