package io.pyml.gateway.frontend.oip;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.ipc.message.ArrowBuffer;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** A runtime's Arrow stream is checked message by message before anything reads it. */
class ArrowFramesTest {
  static final String WHAT = "model 'm': its runtime's answer";
  static final BufferAllocator ALLOCATOR = new RootAllocator();

  @AfterAll
  static void close() {
    ALLOCATOR.close();
  }

  static String refusal(byte[] stream) {
    GatewayException error = assertThrows(GatewayException.class,
        () -> ArrowFrames.of(ByteBuffer.wrap(stream), WHAT));
    assertEquals(ErrorKind.INTERNAL, error.kind());
    assertTrue(error.getMessage().startsWith(WHAT + " is not a well-formed Arrow stream: "),
        error.getMessage());
    return error.getMessage();
  }

  @Test
  void aCutAnswerIsRefusedUnlessItEndsWhereAMessageDoes() throws Exception {
    byte[] whole = ArrowStreams.answer(ALLOCATOR, AnswerColumnsTest.NUMBERS, 5, 1, false);
    List<ArrowFrames.Frame> frames = ArrowFrames.of(ByteBuffer.wrap(whole), WHAT);
    assertEquals(2, frames.size());
    for (int size = 0; size < whole.length; size++) {
      byte[] cut = java.util.Arrays.copyOf(whole, size);
      if (size == frames.get(0).end() || size == frames.get(1).end()) {
        assertEquals(size == frames.get(0).end() ? 1 : 2,
            ArrowFrames.of(ByteBuffer.wrap(cut), WHAT).size());
      } else {
        refusal(cut);
      }
    }
  }

  @Test
  void aMessageClaimingMoreThanTheStreamHoldsIsRefusedBeforeAnythingIsAllocated() {
    byte[] claim = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(-1)
        .putInt(Integer.MAX_VALUE - 15).array();
    assertTrue(refusal(claim).contains("claims 2147483632 bytes of metadata, 8 are left"));
  }

  @Test
  void aBodyLongerThanTheStreamIsRefused() throws Exception {
    byte[] schema = ArrowStreams.schema(AnswerColumnsTest.NUMBERS);
    for (long body : new long[] {Long.MAX_VALUE, 1L << 32, 64}) {
      byte[] batch = ArrowStreams.batch(1, List.of(new ArrowFieldNode(1, 0)),
          List.of(new ArrowBuffer(0, 0), new ArrowBuffer(0, 8)), body);
      assertTrue(refusal(ArrowStreams.concat(schema, batch, new byte[8])).contains(
          "claims a body of " + body + " bytes, 8 are left"));
    }
  }

  @Test
  void fieldsNestedDeeperThanATensorsItemsAreRefused() throws Exception {
    Field item = new Field("item", FieldType.nullable(
        new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE)), null);
    Field tensor = new Field("x", FieldType.nullable(new ArrowType.FixedSizeList(4)),
        List.of(item));
    assertEquals(1, ArrowFrames.of(ByteBuffer.wrap(ArrowStreams.schema(
        new Schema(List.of(tensor), Map.of()))), WHAT).size());
    Field nested = new Field("y", FieldType.nullable(new ArrowType.List()), List.of(tensor));
    assertTrue(refusal(ArrowStreams.schema(new Schema(List.of(tensor, nested))))
        .contains("field 1 nests deeper than a tensor's list of items"));
  }

  @Test
  void aStreamMustStartWithASchemaAndEndAtItsMarker() throws Exception {
    byte[] whole = ArrowStreams.answer(ALLOCATOR, AnswerColumnsTest.NUMBERS, 2, 1, false);
    refusal(ArrowStreams.concat(whole, new byte[] {0})); // a byte after the end marker
    refusal(ArrowStreams.concat(whole, whole)); // a second stream after the end marker
    assertTrue(refusal(new byte[0]).contains("does not start with a schema"));
    byte[] batchOnly = ArrowStreams.batch(0, List.of(), List.of(), 0);
    assertTrue(refusal(batchOnly).contains("does not start with a schema"));
  }
}
