package io.pyml.gateway.frontend.oip;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A DataFrame model's OIP inputs (one 1-D tensor per column) as one Arrow IPC stream, in the
 * model's column order. Made once per model from its input columns: the schema message is
 * written once, and each request writes only its record batch (one buffer allocation and one
 * copy per column; no validity buffers, since V2 tensors have no nulls). A 1-row request of 30
 * columns cost more in Arrow's vector set-up and schema writing than in its values.
 *
 * <p>The schema message is the model's own when the runtime described its inputs with one (its
 * validation input's, pandas metadata included): the runtime then takes the columns as they
 * come, where another schema has it rebuild the table with its validation data's schema.
 *
 * <p>The tensors must have passed {@link OipService.InputCheck} against the same columns: each
 * column once, with its datatype, and one row count.
 */
final class ColumnsEncoder {
  private static final long ALIGNMENT = 8;

  private final List<TensorSpec> columns;
  private final Map<String, Integer> positions = new HashMap<>();
  private final byte[] schemaMessage;

  /** An encoder whose schema message is written from the columns (no pandas metadata). */
  ColumnsEncoder(List<TensorSpec> columns) {
    this(columns, new byte[0]);
  }

  /**
   * @param modelSchema the model's input schema as an Arrow IPC schema message, whose fields
   *     are {@code columns} (what they were read from); empty: write one from the columns
   */
  ColumnsEncoder(List<TensorSpec> columns, byte[] modelSchema) {
    this.columns = List.copyOf(columns);
    List<Field> fields = new ArrayList<>();
    for (int i = 0; i < this.columns.size(); i++) {
      TensorSpec column = this.columns.get(i);
      positions.put(column.name(), i);
      fields.add(new Field(column.name(), FieldType.nullable(column.datatype().arrow), null));
    }
    this.schemaMessage = modelSchema.length > 0 ? modelSchema.clone() : schemaMessage(fields);
  }

  private static byte[] schemaMessage(List<Field> fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      MessageSerializer.serialize(new WriteChannel(Channels.newChannel(out)), new Schema(fields));
    } catch (IOException e) {
      throw new GatewayException(ErrorKind.INTERNAL, "cannot write Arrow: " + e.getMessage(), e);
    }
    return out.toByteArray();
  }

  byte[] encode(BufferAllocator allocator, List<Tensor> tensors) {
    Tensor[] ordered = new Tensor[columns.size()];
    for (Tensor tensor : tensors) {
      ordered[positions.get(tensor.name())] = tensor;
    }
    int rows = ordered.length == 0 ? 0 : Math.toIntExact(ordered[0].elements());
    long[] sizes = new long[ordered.length];
    long body = 0;
    for (int i = 0; i < ordered.length; i++) {
      sizes[i] = columns.get(i).datatype() == Datatype.BOOL
          ? BitVectorHelper.getValidityBufferSizeFromCount(rows) : ordered[i].data().size();
      body += padded(sizes[i]);
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(
        Math.toIntExact(Math.min(Integer.MAX_VALUE - 8, schemaMessage.length + body + 1024)));
    try (ArrowBuf values = allocator.buffer(Math.max(body, 1))) {
      List<ArrowFieldNode> nodes = new ArrayList<>(ordered.length);
      List<ArrowBuf> buffers = new ArrayList<>(2 * ordered.length);
      long offset = 0;
      for (int i = 0; i < ordered.length; i++) {
        write(values, offset, ordered[i], rows);
        nodes.add(new ArrowFieldNode(rows, 0));
        buffers.add(values.slice(offset, 0)); // no validity buffer: no nulls
        buffers.add(values.slice(offset, sizes[i]));
        offset += padded(sizes[i]);
      }
      WriteChannel channel = new WriteChannel(Channels.newChannel(out));
      channel.write(schemaMessage);
      try (ArrowRecordBatch batch = new ArrowRecordBatch(rows, nodes, buffers)) {
        MessageSerializer.serialize(channel, batch);
      }
      ArrowStreamWriter.writeEndOfStream(channel, IpcOption.DEFAULT);
    } catch (IOException e) {
      throw new GatewayException(ErrorKind.INTERNAL, "cannot write Arrow: " + e.getMessage(), e);
    }
    return out.toByteArray();
  }

  /** The values little-endian as V2 sends them; BOOL (a byte each) packed into Arrow's bits. */
  private static void write(ArrowBuf values, long offset, Tensor tensor, int rows) {
    if (tensor.datatype() != Datatype.BOOL) {
      values.setBytes(offset, tensor.data().asReadOnlyByteBuffer());
      return;
    }
    values.setZero(offset, BitVectorHelper.getValidityBufferSizeFromCount(rows));
    for (int row = 0; row < rows; row++) {
      if (tensor.data().byteAt(row) != 0) {
        long at = offset + (row >> 3);
        values.setByte(at, values.getByte(at) | (1 << (row & 7)));
      }
    }
  }

  private static long padded(long size) {
    return (size + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
  }
}
