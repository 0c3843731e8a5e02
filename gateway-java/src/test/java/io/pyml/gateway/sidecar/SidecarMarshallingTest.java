package io.pyml.gateway.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Drainable;
import io.grpc.protobuf.ProtoUtils;
import io.pyml.gateway.core.SingleCopyMarshaller;
import io.pyml.gateway.testing.Allocations;
import io.pyml.gateway.testing.Allocations.KnownLengthStream;
import io.pyml.proto.v1.Payload;
import io.pyml.proto.v1.PayloadKind;
import io.pyml.proto.v1.PredictBatchRequest;
import io.pyml.proto.v1.PredictBatchResponse;
import io.pyml.proto.v1.PredictOutcome;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** How many times the sidecar client copies a large payload's bytes, each way. */
class SidecarMarshallingTest {
  private static final int ARROW_BYTES = 24 * 1024 * 1024; // 100,000 rows x 30 float64
  private static final long SLACK = 1 << 20;

  private static Payload payload() {
    byte[] arrow = new byte[ARROW_BYTES];
    new Random(11).nextBytes(arrow);
    return Payload.newBuilder().setKind(PayloadKind.PAYLOAD_KIND_DATAFRAME)
        .setArrowIpc(ByteString.copyFrom(arrow)).build();
  }

  /** Where the transport's buffers would be: counts the bytes, keeps none. */
  private static final class Sink extends OutputStream {
    long written;

    @Override
    public void write(int b) {
      written++;
    }

    @Override
    public void write(byte[] bytes, int offset, int length) {
      written += length;
    }
  }

  @Test
  void aLargeAnswerIsParsedWithOneCopy() throws Exception {
    byte[] wire = payload().toByteArray();
    var marshaller = SidecarClient.PREDICT.getResponseMarshaller();
    assertInstanceOf(SingleCopyMarshaller.class, marshaller);
    marshaller.parse(new KnownLengthStream(wire)); // warm-up
    Payload[] parsed = new Payload[1];
    long allocated = Allocations.allocatedBy(
        () -> parsed[0] = marshaller.parse(new KnownLengthStream(wire)));
    assertEquals(Payload.parseFrom(wire), parsed[0]);
    assertTrue(allocated < wire.length + SLACK,
        "allocated " + allocated + " bytes to parse a " + wire.length + "-byte answer");
  }

  @Test
  void aLargeBatchAnswerIsParsedWithOneCopy() {
    Payload payload = payload();
    byte[] wire = PredictBatchResponse.newBuilder()
        .addOutcomes(PredictOutcome.newBuilder().setPayload(payload)).build().toByteArray();
    var marshaller = SidecarClient.PREDICT_BATCH.getResponseMarshaller();
    marshaller.parse(new KnownLengthStream(wire)); // warm-up
    PredictBatchResponse[] parsed = new PredictBatchResponse[1];
    long allocated = Allocations.allocatedBy(
        () -> parsed[0] = marshaller.parse(new KnownLengthStream(wire)));
    assertEquals(payload, parsed[0].getOutcomes(0).getPayload());
    assertTrue(allocated < wire.length + SLACK,
        "allocated " + allocated + " bytes to parse a " + wire.length + "-byte answer");
  }

  @Test
  void aLargeRequestIsWrittenFromItsByteStringWithoutAnotherCopy() {
    Payload request = payload();
    assertEquals(ProtoUtils.marshaller(Payload.getDefaultInstance()).getClass(),
        SidecarClient.PREDICT.getRequestMarshaller().getClass());
    drain(SidecarClient.PREDICT.getRequestMarshaller().stream(request), new Sink()); // warm-up
    Sink sink = new Sink();
    long allocated = Allocations.allocatedBy(
        () -> drain(SidecarClient.PREDICT.getRequestMarshaller().stream(request), sink));
    assertEquals(request.getSerializedSize(), sink.written);
    // The transport copies the bytes into its buffers once (here: the sink); nothing before.
    assertTrue(allocated < SLACK, "allocated " + allocated + " bytes to write the request");

    PredictBatchRequest batch = PredictBatchRequest.newBuilder().addPayloads(request).build();
    Sink batchSink = new Sink();
    long batchAllocated = Allocations.allocatedBy(
        () -> drain(SidecarClient.PREDICT_BATCH.getRequestMarshaller().stream(batch), batchSink));
    assertEquals(batch.getSerializedSize(), batchSink.written);
    assertTrue(batchAllocated < SLACK, "allocated " + batchAllocated + " bytes for a batch");
  }

  /** What grpc-java's message framer does with a message's stream. */
  private static void drain(InputStream message, OutputStream transport) {
    try {
      ((Drainable) message).drainTo(transport);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
