package io.pyml.gateway.frontend.oip;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.flatbuf.FieldNode;
import org.apache.arrow.flatbuf.Message;
import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.flatbuf.RecordBatch;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.Field;

/**
 * A DataFrame model's answers as V2 tensors, read without Arrow's reader when they take the
 * usual form: one record batch of numbers and BOOLs, none null. A number column's tensor is then
 * a view of the runtime's answer (not copied; gRPC copies it once, into the client's answer),
 * a BOOL column is unpacked from its bits, and the schema message is parsed once for as long
 * as the model answers with the same bytes. For a 1-row answer, Arrow's reader (schema, vectors,
 * buffers) cost more than the values. Any other answer (strings, categories, times, several
 * batches, compression, or one that is malformed) is left to {@link ArrowTensors#decode},
 * which also says what is wrong with it. An answer is the model's container's bytes: every
 * offset is checked against its size before anything is read or sliced.
 */
final class AnswerColumns {
  private static final int CONTINUATION = 0xFFFFFFFF;
  /** Schema messages above this are parsed each time rather than kept. */
  private static final int MAX_KEPT_SCHEMA_BYTES = 64 * 1024;

  /** An answer schema: its message's bytes, names, and datatypes (null: not of this form). */
  private record Known(ByteString message, List<String> names, Datatype[] types) {}

  /** The schema this model answered with last. */
  private volatile Known known;

  /** The answer's tensors, or empty when it is not of the form read here. */
  Optional<List<Tensor>> read(ByteString ipc) {
    try {
      ByteBuffer bytes = ipc.asReadOnlyByteBuffer().slice().order(ByteOrder.LITTLE_ENDIAN);
      Frame schemaFrame = Frame.at(bytes, 0);
      if (schemaFrame == null || schemaFrame.message.headerType() != MessageHeader.Schema) {
        return Optional.empty();
      }
      Known schema = schema(ipc.substring(0, (int) schemaFrame.end), schemaFrame.message);
      Frame batchFrame = Frame.at(bytes, schemaFrame.end);
      if (schema.types == null || batchFrame == null
          || batchFrame.message.headerType() != MessageHeader.RecordBatch
          || !endsAt(bytes, batchFrame.end)) {
        return Optional.empty();
      }
      return columns(ipc, schema, batchFrame);
    } catch (RuntimeException e) {
      return Optional.empty(); // unreadable here: Arrow's reader names the fault
    }
  }

  private Known schema(ByteString message, Message parsed) {
    Known last = known;
    if (last != null && last.message.equals(message)) {
      return last;
    }
    List<Field> fields = MessageSerializer.deserializeSchema(parsed).getFields();
    // Kept as a copy: a view would keep the whole answer it came with.
    Known read = new Known(ByteString.copyFrom(message.asReadOnlyByteBuffer()),
        fields.stream().map(Field::getName).toList(), fixedWidth(fields));
    if (message.size() <= MAX_KEPT_SCHEMA_BYTES) {
      known = read;
    }
    return read;
  }

  /** Each field's datatype if every one is a number or BOOL (not a dictionary); else null. */
  private static Datatype[] fixedWidth(List<Field> fields) {
    Datatype[] types = new Datatype[fields.size()];
    for (int i = 0; i < types.length; i++) {
      Field field = fields.get(i);
      types[i] = field.getDictionary() == null && field.getChildren().isEmpty()
          ? Datatype.of(field.getType()).orElse(null) : null;
      if (types[i] == null || types[i] == Datatype.BYTES) {
        return null;
      }
    }
    return types;
  }

  private static Optional<List<Tensor>> columns(ByteString ipc, Known schema, Frame frame) {
    RecordBatch batch = (RecordBatch) frame.message.header(new RecordBatch());
    int columns = schema.types.length;
    if (batch == null || batch.compression() != null || batch.nodesLength() != columns
        || batch.buffersLength() != 2 * columns || batch.length() < 0
        || batch.length() > Integer.MAX_VALUE) {
      return Optional.empty();
    }
    int rows = (int) batch.length();
    List<Tensor> tensors = new ArrayList<>(columns);
    FieldNode node = new FieldNode();
    org.apache.arrow.flatbuf.Buffer buffer = new org.apache.arrow.flatbuf.Buffer();
    for (int i = 0; i < columns; i++) {
      batch.nodes(node, i);
      batch.buffers(buffer, 2 * i + 1); // after the column's validity buffer
      Datatype type = schema.types[i];
      long size = type == Datatype.BOOL ? (rows + 7L) / 8 : (long) rows * type.width;
      long start = frame.metadataEnd + buffer.offset();
      if (node.length() != rows || node.nullCount() != 0 || buffer.offset() < 0
          || buffer.length() < size || buffer.offset() + size > frame.message.bodyLength()
          || start + size > frame.end) {
        return Optional.empty();
      }
      ByteString values = ipc.substring((int) start, (int) (start + size));
      tensors.add(new Tensor(schema.names.get(i), type, new long[] {rows},
          type == Datatype.BOOL ? unpacked(values, rows) : values));
    }
    return Optional.of(tensors);
  }

  /** Arrow's bits as V2's BOOL, a byte each. */
  private static ByteString unpacked(ByteString bits, int rows) {
    byte[] out = new byte[rows];
    for (int row = 0; row < rows; row++) {
      out[row] = (byte) ((bits.byteAt(row >> 3) >> (row & 7)) & 1);
    }
    return UnsafeByteOperations.unsafeWrap(out);
  }

  /** Whether the stream ends at {@code at}: there, or with the end-of-stream marker. */
  private static boolean endsAt(ByteBuffer bytes, long at) {
    long left = bytes.limit() - at;
    return left == 0 || (left == 8 && bytes.getInt((int) at) == CONTINUATION
        && bytes.getInt((int) at + 4) == 0);
  }

  /**
   * One message of the stream: the continuation marker, its metadata's length, the metadata,
   * then its body. {@code metadataEnd} is where its body starts; {@code end} where it ends.
   */
  private record Frame(Message message, int metadataEnd, long end) {
    /** The message at {@code at}, or null if none fits there. */
    static Frame at(ByteBuffer bytes, long at) {
      if (at + 8 > bytes.limit() || bytes.getInt((int) at) != CONTINUATION) {
        return null;
      }
      int length = bytes.getInt((int) at + 4);
      long metadataEnd = at + 8 + length;
      if (length <= 0 || metadataEnd > bytes.limit()) {
        return null;
      }
      Message message = Message.getRootAsMessage(
          bytes.slice((int) at + 8, length).order(ByteOrder.LITTLE_ENDIAN));
      long end = metadataEnd + message.bodyLength();
      if (message.bodyLength() < 0 || end > bytes.limit()) {
        return null;
      }
      return new Frame(message, (int) metadataEnd, end);
    }
  }
}
