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
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
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

  /** An answer as Arrow's own writer makes it: {@code batches} batches of {@code rows}. */
  static byte[] answer(Schema schema, int rows, int batches, boolean withNull) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (VectorSchemaRoot root = VectorSchemaRoot.create(schema, ALLOCATOR);
        ArrowStreamWriter writer = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
      writer.start();
      for (int b = 0; b < batches; b++) {
        root.allocateNew();
        for (int row = 0; row < rows; row++) {
          for (var vector : root.getFieldVectors()) {
            if (vector instanceof Float8Vector v) {
              v.set(row, row / 7.0 + b);
            } else if (vector instanceof BitVector v) {
              v.set(row, row % 3 == 0 ? 1 : 0);
            } else if (vector instanceof BigIntVector v) {
              v.set(row, row * 1_000_003L);
            } else if (vector instanceof VarCharVector v) {
              v.setSafe(row, ("r" + row).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
          }
        }
        if (withNull) {
          ((Float8Vector) root.getVector(0)).setNull(rows - 1);
        }
        root.setRowCount(rows);
        writer.writeBatch();
      }
      writer.end();
    }
    return out.toByteArray();
  }

  @Test
  void theUsualAnswerGivesTheTensorsArrowsReaderGives() throws Exception {
    AnswerColumns answers = new AnswerColumns();
    for (int rows : new int[] {1, 13, 1_000}) {
      ByteString ipc = ByteString.copyFrom(answer(NUMBERS, rows, 1, false));
      List<Tensor> read = answers.read(ipc).orElseThrow();
      List<Tensor> arrows = ArrowTensors.decode(ALLOCATOR, PayloadKind.DATAFRAME, ipc);
      assertEquals(arrows.size(), read.size());
      for (int i = 0; i < read.size(); i++) {
        assertEquals(arrows.get(i).name(), read.get(i).name());
        assertEquals(arrows.get(i).datatype(), read.get(i).datatype());
        assertArrayEquals(arrows.get(i).shape(), read.get(i).shape());
        assertEquals(arrows.get(i).data(), read.get(i).data(), "column " + i + ", " + rows);
      }
    }
    assertEquals(0, ALLOCATOR.getAllocatedMemory());
  }

  @Test
  void aNumberColumnIsNotCopied() throws Exception {
    byte[] bytes = answer(NUMBERS, 1_000, 1, false);
    Tensor proba = new AnswerColumns().read(UnsafeByteOperations.unsafeWrap(bytes))
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
    assertEquals(Optional.empty(), answers.read(ByteString.copyFrom(answer(strings, 3, 1,
        false))));
    assertEquals(Optional.empty(), answers.read(ByteString.copyFrom(answer(NUMBERS, 3, 2,
        false))));
    assertEquals(Optional.empty(), answers.read(ByteString.copyFrom(answer(NUMBERS, 3, 1,
        true))));
    assertTrue(answers.read(ByteString.copyFrom(answer(NUMBERS, 3, 1, false))).isPresent());
  }

  @Test
  void aMalformedOrCutAnswerIsLeftToArrowsReaderWithoutFailingHere() throws Exception {
    byte[] whole = answer(NUMBERS, 5, 1, false);
    AnswerColumns answers = new AnswerColumns();
    for (int size = 0; size < whole.length; size++) {
      // Without its end-of-stream marker a stream still ends where its last message does.
      assertEquals(size == whole.length - 8,
          answers.read(ByteString.copyFrom(whole, 0, size)).isPresent(), "cut at " + size);
    }
    Random random = new Random(13);
    for (int i = 0; i < 2_000; i++) {
      byte[] changed = whole.clone();
      for (int k = 0; k < 1 + random.nextInt(4); k++) {
        changed[random.nextInt(changed.length)] = (byte) random.nextInt(256);
      }
      Optional<List<Tensor>> read = answers.read(ByteString.copyFrom(changed));
      read.ifPresent(tensors -> tensors.forEach(t -> assertEquals(
          t.elements() * t.datatype().width, t.data().size())));
    }
  }
}
