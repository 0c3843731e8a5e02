package io.pyml.gateway.frontend.oip;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
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
 * model's column order. Made once per model from its input columns: the usual schema messages
 * are written once, and each request writes only its record batch (one buffer allocation and
 * one copy per column; no validity buffers, since V2 tensors have no nulls). A 1-row request
 * of 30 columns cost more in Arrow's vector set-up and schema writing than in its values.
 *
 * <p>The schema message is the model's own when the runtime described its inputs with one (its
 * validation input's, pandas metadata included) and every tensor has exactly its column's
 * type: the runtime then takes the columns as they come. Otherwise it is written from the
 * tensors' datatypes (BYTES: Arrow Utf8), and the runtime makes the model's types from them by
 * its conversion rule, or refuses them with its message: types are the runtime's to judge.
 *
 * <p>The tensors must have passed {@link OipService.InputCheck} against the same columns: each
 * column once, 1-D, and one row count.
 */
final class ColumnsEncoder {
  private static final long ALIGNMENT = 8;

  private final List<TensorSpec> columns;
  private final Map<String, Integer> positions = new HashMap<>();
  /** Per column, the datatype that is exactly the model's type; null where none is. */
  private final Datatype[] exact;
  private final byte[] modelSchema;
  /** The schema of the advertised datatypes: what a client reading the metadata sends. */
  private final byte[] advertisedSchema;

  /** An encoder whose model schema is written from the columns (no pandas metadata). */
  ColumnsEncoder(List<TensorSpec> columns) {
    this(columns, new byte[0]);
  }

  /**
   * @param modelSchema the model's input schema as an Arrow IPC schema message, whose fields
   *     are {@code columns} (what they were read from); empty: write one from the columns
   */
  ColumnsEncoder(List<TensorSpec> columns, byte[] modelSchema) {
    this.columns = List.copyOf(columns);
    this.exact = new Datatype[this.columns.size()];
    List<Field> fields = modelSchema.length > 0
        ? ArrowTensors.schema(modelSchema).getFields() : null;
    for (int i = 0; i < this.columns.size(); i++) {
      positions.put(this.columns.get(i).name(), i);
      exact[i] = fields == null ? this.columns.get(i).datatype() : exactly(fields.get(i));
    }
    this.advertisedSchema = schemaMessage(this.columns.stream().map(TensorSpec::datatype)
        .toArray(Datatype[]::new));
    this.modelSchema = modelSchema.length > 0 ? modelSchema.clone() : advertisedSchema;
  }

  /** The V2 datatype whose Arrow type is the field's own, if any (not a dictionary's). */
  private static Datatype exactly(Field field) {
    return field.getDictionary() != null ? null
        : Datatype.of(field.getType()).orElse(null);
  }

  /** A schema message of the columns, each of a datatype's Arrow type. */
  private byte[] schemaMessage(Datatype[] types) {
    List<Field> fields = new ArrayList<>();
    for (int i = 0; i < columns.size(); i++) {
      fields.add(new Field(columns.get(i).name(), FieldType.nullable(types[i].arrow), null));
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      MessageSerializer.serialize(new WriteChannel(Channels.newChannel(out)), new Schema(fields));
    } catch (IOException e) {
      throw new GatewayException(ErrorKind.INTERNAL, "cannot write Arrow: " + e.getMessage(), e);
    }
    return out.toByteArray();
  }

  private byte[] schemaFor(Tensor[] ordered) {
    Datatype[] types = new Datatype[ordered.length];
    boolean modelsOwn = true;
    boolean advertised = true;
    for (int i = 0; i < ordered.length; i++) {
      types[i] = ordered[i].datatype();
      modelsOwn &= types[i] == exact[i];
      advertised &= types[i] == columns.get(i).datatype();
    }
    return modelsOwn ? modelSchema : advertised ? advertisedSchema : schemaMessage(types);
  }

  byte[] encode(BufferAllocator allocator, List<Tensor> tensors) {
    Tensor[] ordered = new Tensor[columns.size()];
    for (Tensor tensor : tensors) {
      ordered[positions.get(tensor.name())] = tensor;
    }
    byte[] schemaMessage = schemaFor(ordered);
    int rows = ordered.length == 0 ? 0 : Math.toIntExact(ordered[0].elements());
    long body = 0;
    for (Tensor tensor : ordered) {
      for (long size : sizes(tensor, rows)) {
        body += padded(size);
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(
        Math.toIntExact(Math.min(Integer.MAX_VALUE - 8, schemaMessage.length + body + 1024)));
    try (ArrowBuf values = allocator.buffer(Math.max(body, 1))) {
      List<ArrowFieldNode> nodes = new ArrayList<>(ordered.length);
      List<ArrowBuf> buffers = new ArrayList<>(3 * ordered.length);
      long offset = 0;
      for (Tensor tensor : ordered) {
        long[] sizes = sizes(tensor, rows);
        write(values, offset, tensor, rows);
        nodes.add(new ArrowFieldNode(rows, 0));
        buffers.add(values.slice(offset, 0)); // no validity buffer: no nulls
        for (long size : sizes) {
          buffers.add(values.slice(offset, size));
          offset += padded(size);
        }
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

  /**
   * The sizes of a column's buffers after its (empty) validity buffer: BOOL its bits; BYTES
   * its int32 offsets and its strings' bytes (the raw form less a 4-byte length each).
   */
  private static long[] sizes(Tensor tensor, int rows) {
    return switch (tensor.datatype()) {
      case BOOL -> new long[] {BitVectorHelper.getValidityBufferSizeFromCount(rows)};
      case BYTES -> new long[] {(rows + 1L) * Integer.BYTES,
          tensor.data().size() - (long) rows * V2Bytes.LENGTH_BYTES};
      default -> new long[] {tensor.data().size()};
    };
  }

  /**
   * The values little-endian as V2 sends them; BOOL (a byte each) packed into Arrow's bits;
   * BYTES (each a length, then its bytes) as Arrow's offsets, then the bytes one after another.
   */
  private static void write(ArrowBuf values, long offset, Tensor tensor, int rows) {
    switch (tensor.datatype()) {
      case BOOL -> {
        values.setZero(offset, BitVectorHelper.getValidityBufferSizeFromCount(rows));
        for (int row = 0; row < rows; row++) {
          if (tensor.data().byteAt(row) != 0) {
            long at = offset + (row >> 3);
            values.setByte(at, values.getByte(at) | (1 << (row & 7)));
          }
        }
      }
      case BYTES -> {
        long data = offset + padded((rows + 1L) * Integer.BYTES);
        ByteBuffer source = V2Bytes.buffer(tensor.data());
        int[] end = {0};
        values.setInt(offset, 0);
        V2Bytes.forEach(tensor.data(), (row, at, length) -> {
          values.setBytes(data + end[0], source.slice(at, length));
          end[0] += length;
          values.setInt(offset + (row + 1L) * Integer.BYTES, end[0]);
        });
      }
      default -> values.setBytes(offset, tensor.data().asReadOnlyByteBuffer());
    }
  }
  private static long padded(long size) {
    return (size + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
  }
}
