package io.pyml.gateway.testing;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.pyml.proto.v1.AdminServiceGrpc;
import io.pyml.proto.v1.DeployRequest;
import io.pyml.proto.v1.Deployment;
import io.pyml.proto.v1.GetDeploymentRequest;
import io.pyml.proto.v1.Payload;
import io.pyml.proto.v1.PayloadKind;
import io.pyml.proto.v1.PredictRequest;
import io.pyml.proto.v1.PredictResponse;
import io.pyml.proto.v1.PredictionServiceGrpc;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assertions;

/** A gRPC client of the gateway's public API, as an SDK would use it. */
public final class TestClient implements AutoCloseable {
  public final ManagedChannel channel;
  public final PredictionServiceGrpc.PredictionServiceBlockingStub predictions;
  public final AdminServiceGrpc.AdminServiceBlockingStub admin;

  public TestClient(int port) {
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
        .maxInboundMessageSize(Integer.MAX_VALUE).build();
    predictions = PredictionServiceGrpc.newBlockingStub(channel);
    admin = AdminServiceGrpc.newBlockingStub(channel);
  }

  public Deployment deploy(String name, long version, Path home) {
    return admin.withDeadlineAfter(60, TimeUnit.SECONDS).deploy(DeployRequest.newBuilder()
        .setModelName(name).setModelVersion(version).setHomePath(home.toString())
        .setWait(true).build());
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
