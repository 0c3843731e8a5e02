package io.pyml.gateway.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.proto.v1.Payload;
import io.pyml.proto.v1.PayloadKind;
import io.pyml.proto.v1.PredictBatchResponse;
import io.pyml.proto.v1.PredictError;
import io.pyml.proto.v1.PredictOutcome;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A PredictBatch outcome's error becomes exactly what the same error from Predict becomes. */
class BatchProtosTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private static PredictOutcome error(int code, String kind, String message, String type) {
    return PredictOutcome.newBuilder().setError(PredictError.newBuilder().setCode(code)
        .setKind(kind).setMessage(message).setExceptionType(type)).build();
  }

  /** What Predict's failure with that status and trailers translates to. */
  private static GatewayException viaPredict(Status.Code code, String kind, String message,
      String type) {
    Metadata trailers = new Metadata();
    trailers.put(Metadata.Key.of("pyml-error", Metadata.ASCII_STRING_MARSHALLER), kind);
    if (!type.isEmpty()) {
      trailers.put(Metadata.Key.of("pyml-exception-type", Metadata.ASCII_STRING_MARSHALLER),
          type);
    }
    return SidecarErrors.translate("m",
        new StatusRuntimeException(code.toStatus().withDescription(message), trailers), TIMEOUT);
  }

  @Test
  void outcomesAreAnswersOrErrorsTranslatedAsPredictsAre() {
    Payload answer = Payload.newBuilder().setKind(PayloadKind.PAYLOAD_KIND_DATAFRAME)
        .setArrowIpc(ByteString.copyFromUtf8("arrow")).build();
    PredictBatchResponse response = PredictBatchResponse.newBuilder()
        .addOutcomes(PredictOutcome.newBuilder().setPayload(answer))
        .addOutcomes(error(3, "INVALID_INPUT", "model 'm': missing column 'y'", ""))
        .addOutcomes(error(13, "MODEL_ERROR", "model 'm' raised ValueError: boom", "ValueError"))
        .addOutcomes(error(8, "RESOURCE_EXHAUSTED", "model 'm': too many rows", ""))
        .build();
    List<BatchOutcome> outcomes = BatchProtos.fromProto("m", response, 4, TIMEOUT);

    assertEquals(ByteString.copyFromUtf8("arrow"), outcomes.get(0).answer().arrowIpc());
    assertNull(outcomes.get(0).error());
    assertSame(viaPredict(Status.Code.INVALID_ARGUMENT, "INVALID_INPUT",
        "model 'm': missing column 'y'", ""), outcomes.get(1).error());
    assertSame(viaPredict(Status.Code.INTERNAL, "MODEL_ERROR",
        "model 'm' raised ValueError: boom", "ValueError"), outcomes.get(2).error());
    assertEquals(ErrorKind.MODEL_ERROR, outcomes.get(2).error().kind());
    assertSame(viaPredict(Status.Code.RESOURCE_EXHAUSTED, "RESOURCE_EXHAUSTED",
        "model 'm': too many rows", ""), outcomes.get(3).error());
  }

  @Test
  void aWrongNumberOfOutcomesIsRefused() {
    PredictBatchResponse one = PredictBatchResponse.newBuilder()
        .addOutcomes(error(3, "INVALID_INPUT", "x", "")).build();
    assertThrows(IllegalStateException.class, () -> BatchProtos.fromProto("m", one, 2, TIMEOUT));
  }

  private static void assertSame(GatewayException expected, GatewayException actual) {
    assertEquals(expected.kind(), actual.kind());
    assertEquals(expected.getMessage(), actual.getMessage());
    assertEquals(expected.runtimeStatus(), actual.runtimeStatus());
  }
}
