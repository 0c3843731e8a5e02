package io.pyml.gateway.frontend.oip;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.arrow.flatbuf.Buffer;
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
 * batches, compression, or a layout Arrow's reader would refuse) is left to
 * {@link ArrowTensors#decode}, which also says what is wrong with it. An answer is the model's
 * container's bytes: its messages are checked first ({@link ArrowFrames}), and every buffer
 * against its message's body before it is sliced.
 */
final class AnswerColumns {
  /** Schema messages above this are parsed each time rather than kept. */
  private static final int MAX_KEPT_SCHEMA_BYTES = 64 * 1024;

  /** An answer schema: its message's bytes, names, and datatypes (null: not of this form). */
  private record Known(ByteString message, List<String> names, Datatype[] types) {}

  /** The schema this model answered with last. */
  private volatile Known known;

  /**
   * The answer's tensors, or empty when it is not of the form read here.
   *
   * @param frames its messages, checked ({@link ArrowFrames#of})
   */
  Optional<List<Tensor>> read(ByteString ipc, List<ArrowFrames.Frame> frames) {
    try {
      if (frames.size() != 2
          || frames.get(1).message().headerType() != MessageHeader.RecordBatch) {
        return Optional.empty();
      }
      ArrowFrames.Frame schemaFrame = frames.get(0);
      Known schema = schema(ipc.substring(0, schemaFrame.end()), schemaFrame.message());
      return schema.types == null ? Optional.empty() : columns(ipc, schema, frames.get(1));
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

  private static Optional<List<Tensor>> columns(ByteString ipc, Known schema,
      ArrowFrames.Frame frame) {
    RecordBatch batch = (RecordBatch) frame.message().header(new RecordBatch());
    int columns = schema.types.length;
    if (batch == null || batch.compression() != null || batch.nodesLength() != columns
        || batch.buffersLength() != 2 * columns || batch.length() < 0
        || batch.length() > Integer.MAX_VALUE) {
      return Optional.empty();
    }
    int rows = (int) batch.length();
    List<Tensor> tensors = new ArrayList<>(columns);
    FieldNode node = new FieldNode();
    Buffer validity = new Buffer();
    Buffer values = new Buffer();
    for (int i = 0; i < columns; i++) {
      batch.nodes(node, i);
      batch.buffers(validity, 2 * i);
      batch.buffers(values, 2 * i + 1);
      Datatype type = schema.types[i];
      long size = type == Datatype.BOOL ? (rows + 7L) / 8 : (long) rows * type.width;
      if (node.length() != rows || node.nullCount() != 0 || !inBody(validity, frame)
          || !inBody(values, frame) || values.length() < size
          || !allValid(ipc, frame, validity, rows)) {
        return Optional.empty();
      }
      int start = frame.metadataEnd() + (int) values.offset();
      ByteString column = ipc.substring(start, start + (int) size);
      tensors.add(new Tensor(schema.names.get(i), type, new long[] {rows},
          type == Datatype.BOOL ? unpacked(column, rows) : column));
    }
    return Optional.of(tensors);
  }

  /**
   * Whether a validity buffer says no row is null, as Arrow's reader reads it: from its bits
   * (pyarrow writes none when there are no nulls; Arrow Java writes all bits set).
   */
  private static boolean allValid(ByteString ipc, ArrowFrames.Frame frame, Buffer validity,
      int rows) {
    if (validity.length() == 0) {
      return true;
    }
    if (validity.length() < (rows + 7L) / 8) {
      return false;
    }
    int start = frame.metadataEnd() + (int) validity.offset();
    for (int row = 0; row < rows; row++) {
      if ((ipc.byteAt(start + (row >> 3)) & (1 << (row & 7))) == 0) {
        return false;
      }
    }
    return true;
  }

  /** Whether a buffer lies inside its message's body (its fields are the answer's bytes). */
  private static boolean inBody(Buffer buffer, ArrowFrames.Frame frame) {
    long body = frame.bodyLength();
    return buffer.offset() >= 0 && buffer.length() >= 0 && buffer.offset() <= body
        && buffer.length() <= body - buffer.offset();
  }

  /** Arrow's bits as V2's BOOL, a byte each. */
  private static ByteString unpacked(ByteString bits, int rows) {
    byte[] out = new byte[rows];
    for (int row = 0; row < rows; row++) {
      out[row] = (byte) ((bits.byteAt(row >> 3) >> (row & 7)) & 1);
    }
    return UnsafeByteOperations.unsafeWrap(out);
  }

}
