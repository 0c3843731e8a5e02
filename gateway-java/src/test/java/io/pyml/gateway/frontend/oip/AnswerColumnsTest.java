package io.pyml.gateway.frontend.oip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.pyml.gateway.core.PayloadKind;
import java.io.ByteArrayOutputStream;
import java.nio.channels.Channels;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BaseFixedWidthVector;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.message.ArrowBuffer;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** A DataFrame answer read without Arrow's reader: the same tensors, or left to the reader. */
class AnswerColumnsTest {
  static final BufferAllocator ALLOCATOR = new RootAllocator();
  static final Schema NUMBERS = new Schema(List.of(
      new Field("proba", FieldType.nullable(new ArrowType.FloatingPoint(
          org.apache.arrow.vector.types.FloatingPointPrecision.DOUBLE)), null),
      new Field("flag", FieldType.nullable(ArrowType.Bool.INSTANCE), null),
      new Field("n", FieldType.nullable(new ArrowType.Int(64, true)), null)),
      Map.of("pandas", "{\"index_columns\": []}"));

  @AfterAll
  static void close() {
    ALLOCATOR.close();
  }

  /** What the OIP service does: the messages checked, then the answer read directly. */
  static Optional<List<Tensor>> read(AnswerColumns answers, ByteString ipc) {
    return answers.read(ipc, ArrowFrames.of(ipc.asReadOnlyByteBuffer(), "test"));
  }

  static void assertSameTensors(List<Tensor> expected, List<Tensor> actual, String what) {
    assertEquals(expected.size(), actual.size(), what);
    for (int i = 0; i < actual.size(); i++) {
      assertEquals(expected.get(i).name(), actual.get(i).name(), what);
      assertEquals(expected.get(i).datatype(), actual.get(i).datatype(), what);
      assertArrayEquals(expected.get(i).shape(), actual.get(i).shape(), what);
      assertEquals(expected.get(i).data(), actual.get(i).data(), what + ", column " + i);
    }
  }

  static byte[] answer(Schema schema, int rows, int batches, boolean withNull)
      throws Exception {
    return ArrowStreams.answer(ALLOCATOR, schema, rows, batches, withNull);
  }

  @Test
  void theUsualAnswerGivesTheTensorsArrowsReaderGives() throws Exception {
    AnswerColumns answers = new AnswerColumns();
    for (int rows : new int[] {0, 1, 13, 1_000}) {
      byte[] bytes = answer(NUMBERS, rows, 1, false);
      ByteString whole = ByteString.copyFrom(bytes);
      // As answers come: views into a larger message, and (in tests only) a rope.
      ByteString view = ByteString.copyFrom(ArrowStreams.concat(new byte[13], bytes))
          .substring(13);
      ByteString rope = ByteString.copyFrom(bytes, 0, bytes.length / 2)
          .concat(ByteString.copyFrom(bytes, bytes.length / 2, bytes.length - bytes.length / 2));
      List<Tensor> arrows = ArrowTensors.decode(ALLOCATOR, PayloadKind.DATAFRAME, whole);
      for (ByteString ipc : List.of(whole, view, rope)) {
        assertSameTensors(arrows, read(answers, ipc).orElseThrow(), rows + " rows");
      }
    }
    assertEquals(0, ALLOCATOR.getAllocatedMemory());
  }

  @Test
  void everyNumberTypeIsReadAsArrowsReaderReadsIt() throws Exception {
    List<Field> fields = new java.util.ArrayList<>();
    for (Datatype type : Datatype.values()) {
      if (type != Datatype.BYTES) {
        fields.add(new Field(type.name(), FieldType.nullable(type.arrow), null));
      }
    }
    Schema every = new Schema(fields);
    ByteString ipc = ByteString.copyFrom(answer(every, 9, 1, false));
    assertSameTensors(ArrowTensors.decode(ALLOCATOR, PayloadKind.DATAFRAME, ipc),
        read(new AnswerColumns(), ipc).orElseThrow(), "every type");
  }

  @Test
  void aBufferOutsideItsBodyIsLeftToArrowsReader() throws Exception {
    byte[] schema = ArrowStreams.schema(new Schema(List.of(NUMBERS.getFields().get(2))));
    AnswerColumns answers = new AnswerColumns();
    long[][] layouts = {
        {0, 0, 0, 8}, // fits: the control
        {0, 0, Long.MAX_VALUE - 3, 8}, // an offset that wraps when the size is added
        {0, 0, 8, 8}, // past the body's end
        {0, 0, -8, 8},
        {Long.MAX_VALUE, 1, 0, 8}, // a validity buffer outside the body
        {0, 0, 0, Long.MAX_VALUE},
        {0, 0, 0, 4}, // shorter than its rows
    };
    for (long[] layout : layouts) {
      byte[] batch = ArrowStreams.batch(1, List.of(new ArrowFieldNode(1, 0)), List.of(
          new ArrowBuffer(layout[0], layout[1]), new ArrowBuffer(layout[2], layout[3])), 8);
      ByteString ipc = ByteString.copyFrom(ArrowStreams.concat(schema, batch,
          new byte[] {7, 0, 0, 0, 0, 0, 0, 0}, ColumnsEncoder.END_OF_STREAM.toByteArray()));
      assertEquals(layout == layouts[0], read(answers, ipc).isPresent(),
          java.util.Arrays.toString(layout));
    }
  }

  @Test
  void aNumberColumnIsNotCopied() throws Exception {
    byte[] bytes = answer(NUMBERS, 1_000, 1, false);
    Tensor proba = read(new AnswerColumns(), UnsafeByteOperations.unsafeWrap(bytes))
        .orElseThrow().get(0);
    byte before = proba.data().byteAt(8);
    java.util.Arrays.fill(bytes, (byte) 0x5a);
    assertEquals((byte) 0x5a, proba.data().byteAt(8), "was " + before);
  }

  @Test
  void otherAnswersAreLeftToArrowsReader() throws Exception {
    AnswerColumns answers = new AnswerColumns();
    Schema strings = new Schema(List.of(NUMBERS.getFields().get(0),
        new Field("s", FieldType.nullable(ArrowType.Utf8.INSTANCE), null)));
    assertEquals(Optional.empty(), read(answers, ByteString.copyFrom(answer(strings, 3, 1,
        false))));
    assertEquals(Optional.empty(), read(answers, ByteString.copyFrom(answer(NUMBERS, 3, 2,
        false))));
    assertEquals(Optional.empty(), read(answers, ByteString.copyFrom(answer(NUMBERS, 3, 1,
        true))));
    assertTrue(read(answers, ByteString.copyFrom(answer(NUMBERS, 3, 1, false))).isPresent());
    // Schemas in turns: each read by its own bytes, not the one kept.
    assertEquals(Optional.empty(), read(answers, ByteString.copyFrom(answer(strings, 3, 1,
        false))));
    assertTrue(read(answers, ByteString.copyFrom(answer(NUMBERS, 3, 1, false))).isPresent());
  }

  @Test
  void aChangedAnswerReadDirectlyGivesWhatArrowsReaderGives() throws Exception {
    byte[] whole = answer(NUMBERS, 5, 1, false);
    AnswerColumns answers = new AnswerColumns();
    // More: mvn test -Dtest=AnswerColumnsTest -Dfuzz.changes=100000 -Dfuzz.seed=N (seeds 13, 7
    // and 99 passed so on 7 December).
    Random random = new Random(Long.getLong("fuzz.seed", 13));
    int direct = 0;
    for (int i = 0; i < Integer.getInteger("fuzz.changes", 3_000); i++) {
      byte[] changed = whole.clone();
      for (int k = 0; k < 1 + random.nextInt(3); k++) {
        changed[random.nextInt(changed.length)] = (byte) random.nextInt(256);
      }
      ByteString ipc = ByteString.copyFrom(changed);
      Optional<List<Tensor>> read;
      try {
        read = read(answers, ipc);
      } catch (io.pyml.gateway.core.GatewayException refused) {
        continue; // its messages do not fit: refused before any reader
      }
      if (read.isPresent()) {
        direct++;
        assertSameTensors(ArrowTensors.decode(ALLOCATOR, PayloadKind.DATAFRAME, ipc),
            read.get(), "change " + i);
      }
    }
    assertTrue(direct > 100, direct + " read directly");
  }
}
