package io.pyml.gateway.frontend.thrift;

import com.google.protobuf.ByteString;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.gateway.deployment.DeploymentState;
import io.pyml.gateway.deployment.DeploymentView;
import io.pyml.gateway.dispatch.PredictCall;
import io.pyml.gateway.dispatch.PredictResult;
import io.pyml.gateway.dispatch.Protocol;
import io.pyml.thrift.v1.ModelInfo;
import io.pyml.thrift.v1.ModelState;
import io.pyml.thrift.v1.PredictRequest;
import io.pyml.thrift.v1.PredictResponse;
import java.nio.ByteBuffer;
import io.pyml.gateway.identity.Credentials;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/** The only place the Thrift API's generated classes meet the gateway's domain types. */
final class ThriftConverters {
  private ThriftConverters() {}

  static PredictCall toCall(PredictRequest request) {
    Payload payload = null;
    if (request.isSetPayload()) {
      io.pyml.thrift.v1.Payload wire = request.getPayload();
      // Copied: libthrift's buffers are not ours to keep once the call returns.
      ByteString bytes = wire.isSetArrowIpc() ? ByteString.copyFrom(wire.bufferForArrowIpc())
          : ByteString.EMPTY;
      payload = new Payload(fromThrift(wire.getKind()), bytes);
    }
    return new PredictCall(
        request.getModelName(),
        request.isSetModelVersion() ? OptionalLong.of(request.getModelVersion())
            : OptionalLong.empty(),
        payload,
        request.getRequestId(),
        request.isSetTimeoutMs() && request.getTimeoutMs() > 0
            ? Optional.of(Duration.ofMillis(request.getTimeoutMs())) : Optional.empty(),
        Credentials.fromAuthorization(request.getAuthorization()), Protocol.THRIFT);
  }

  static PredictResponse toThrift(PredictResult result) {
    io.pyml.thrift.v1.Payload payload = new io.pyml.thrift.v1.Payload(
        toThrift(result.payload().kind()),
        // A heap buffer: TBinaryProtocol writes binaries through their backing array.
        ByteBuffer.wrap(result.payload().arrowIpc().toByteArray()));
    return new PredictResponse(result.modelName(), result.modelVersion(), payload,
        result.requestId());
  }

  static ModelInfo toThrift(DeploymentView view) {
    return new ModelInfo(view.name(), view.version(), toThrift(view.state()), view.reason(),
        toThrift(view.kind()));
  }

  static PayloadKind fromThrift(io.pyml.thrift.v1.PayloadKind kind) {
    if (kind == null) {
      return PayloadKind.UNSPECIFIED;
    }
    return switch (kind) {
      case DATAFRAME -> PayloadKind.DATAFRAME;
      case TENSORS -> PayloadKind.TENSORS;
      case UNSPECIFIED -> PayloadKind.UNSPECIFIED;
    };
  }

  static io.pyml.thrift.v1.PayloadKind toThrift(PayloadKind kind) {
    return switch (kind) {
      case DATAFRAME -> io.pyml.thrift.v1.PayloadKind.DATAFRAME;
      case TENSORS -> io.pyml.thrift.v1.PayloadKind.TENSORS;
      case UNSPECIFIED -> io.pyml.thrift.v1.PayloadKind.UNSPECIFIED;
    };
  }

  static ModelState toThrift(DeploymentState state) {
    return switch (state) {
      case PENDING -> ModelState.PENDING;
      case STARTING -> ModelState.STARTING;
      case LOADING -> ModelState.LOADING;
      case VALIDATING -> ModelState.VALIDATING;
      case READY -> ModelState.READY;
      case FAILED -> ModelState.FAILED;
      case STOPPED -> ModelState.STOPPED;
    };
  }
}
