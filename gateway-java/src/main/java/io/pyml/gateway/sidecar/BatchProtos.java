package io.pyml.gateway.sidecar;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;
import io.pyml.proto.v1.PredictBatchRequest;
import io.pyml.proto.v1.PredictBatchResponse;
import io.pyml.proto.v1.PredictError;
import io.pyml.proto.v1.PredictOutcome;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Converters for PredictBatch; an outcome's error goes through Predict's own translation. */
final class BatchProtos {
  private static final Metadata.Key<String> EXCEPTION_TYPE_TRAILER =
      Metadata.Key.of("pyml-exception-type", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<String> ERROR_TRAILER =
      Metadata.Key.of(SidecarErrors.ERROR_TRAILER, Metadata.ASCII_STRING_MARSHALLER);

  private BatchProtos() {}

  static PredictBatchRequest toProto(List<Payload> payloads) {
    PredictBatchRequest.Builder request = PredictBatchRequest.newBuilder();
    payloads.forEach(payload -> request.addPayloads(RuntimeProtos.toProto(payload)));
    return request.build();
  }

  /** One outcome per payload sent; a runtime that answers another count is broken. */
  static List<BatchOutcome> fromProto(String model, PredictBatchResponse response, int sent,
      Duration timeout) {
    if (response.getOutcomesCount() != sent) {
      throw new IllegalStateException("model '" + model + "' runtime answered "
          + response.getOutcomesCount() + " outcomes for a batch of " + sent + " calls");
    }
    List<BatchOutcome> outcomes = new ArrayList<>(sent);
    for (PredictOutcome outcome : response.getOutcomesList()) {
      outcomes.add(outcome.hasError()
          ? new BatchOutcome(null, error(model, outcome.getError(), timeout))
          : new BatchOutcome(RuntimeProtos.fromProto(outcome.getPayload()), null));
    }
    return outcomes;
  }

  /** The status and trailers Predict would have failed with, translated as Predict's are. */
  private static GatewayException error(String model, PredictError error, Duration timeout) {
    Metadata trailers = new Metadata();
    trailers.put(ERROR_TRAILER, error.getKind());
    if (!error.getExceptionType().isEmpty()) {
      trailers.put(EXCEPTION_TYPE_TRAILER, error.getExceptionType());
    }
    Status status = Status.fromCodeValue(error.getCode()).withDescription(error.getMessage());
    return SidecarErrors.translate(model, new StatusRuntimeException(status, trailers), timeout);
  }
}
