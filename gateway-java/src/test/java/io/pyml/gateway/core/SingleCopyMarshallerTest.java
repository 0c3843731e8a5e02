package io.pyml.gateway.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.pyml.gateway.testing.Allocations;
import io.pyml.gateway.testing.Allocations.KnownLengthStream;
import io.pyml.proto.v1.Payload;
import io.pyml.proto.v1.PayloadKind;
import io.pyml.proto.v1.PredictRequest;
import java.io.ByteArrayInputStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SingleCopyMarshallerTest {
  private static final int ARROW_BYTES = 24 * 1024 * 1024; // 100,000 rows x 30 float64

  private static PredictRequest request(int arrowBytes) {
    byte[] arrow = new byte[arrowBytes];
    new Random(7).nextBytes(arrow);
    return PredictRequest.newBuilder()
        .setModelName("breast_cancer_lr")
        .setRequestId("r-1")
        .setModelVersion(3)
        .setPayload(Payload.newBuilder()
            .setKind(PayloadKind.PAYLOAD_KIND_DATAFRAME)
            .setArrowIpc(ByteString.copyFrom(arrow)))
        .build();
  }

  @Test
  void parsesTheSameMessage() {
    PredictRequest sent = request(1000);
    var marshaller = new SingleCopyMarshaller<>(PredictRequest.getDefaultInstance());
    PredictRequest parsed = marshaller.parse(new KnownLengthStream(sent.toByteArray()));
    assertEquals(sent, parsed);
    // Streams without a known length take grpc-java's own way.
    assertEquals(sent, marshaller.parse(new ByteArrayInputStream(sent.toByteArray())));
    assertEquals(PredictRequest.getDefaultInstance(),
        marshaller.parse(new KnownLengthStream(new byte[0])));
  }

  @Test
  void largeRequestIsCopiedOnceWhereGrpcJavaCopiesItTwice() throws Exception {
    byte[] wire = request(ARROW_BYTES).toByteArray();
    var ours = new SingleCopyMarshaller<>(PredictRequest.getDefaultInstance());
    MethodDescriptor.Marshaller<PredictRequest> grpcJava =
        ProtoUtils.marshaller(PredictRequest.getDefaultInstance());
    // Warm-up (class loading, parser tables), then one measured parse each.
    ours.parse(new KnownLengthStream(wire));
    grpcJava.parse(new KnownLengthStream(wire));
    PredictRequest[] parsed = new PredictRequest[2];
    long oursBytes = Allocations.allocatedBy(() -> parsed[0] = ours.parse(new KnownLengthStream(wire)));
    long theirBytes = Allocations.allocatedBy(() -> parsed[1] = grpcJava.parse(new KnownLengthStream(wire)));
    assertEquals(parsed[1], parsed[0]);
    // One array of the message's size; the Arrow bytes are a view of it, not a second copy.
    assertTrue(oursBytes < wire.length + (1 << 20),
        "allocated " + oursBytes + " bytes to parse " + wire.length);
    assertTrue(theirBytes > 2L * ARROW_BYTES - (1 << 20),
        "grpc-java's parse allocated " + theirBytes + " bytes (expected two copies)");
  }

  @Test
  void malformedBytesAreInternal() {
    var marshaller = new SingleCopyMarshaller<>(PredictRequest.getDefaultInstance());
    StatusRuntimeException error = assertThrows(StatusRuntimeException.class,
        () -> marshaller.parse(new KnownLengthStream(new byte[] {0x0a, 0x7f, 1, 2})));
    assertEquals(Status.Code.INTERNAL, error.getStatus().getCode());
  }
}
