package io.pyml.gateway.frontend.oip;

import com.google.flatbuffers.FlatBufferBuilder;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.flatbuf.RecordBatch;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.ArrowBuffer;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.ipc.message.FBSerializables;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * A DataFrame model's OIP inputs (one 1-D tensor per column) as one Arrow IPC stream, in the
 * model's column order. Made once per model from its input columns: the usual schema messages
 * are written once, and each request writes only its record batch's metadata; its body is the
 * tensors' own bytes, joined and not copied (no validity buffers, since V2 tensors have no
 * nulls). A 1-row request of 30 columns cost more in Arrow's vector set-up and schema writing
 * than in its values; at 1,000 rows with batching, copying the columns through Arrow's writer
 * made the gateway's CPU per OIP call 1.5× the native call's.
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
  private static final ByteString ZEROS = ByteString.copyFrom(new byte[(int) ALIGNMENT]);
  /** The continuation marker, then a metadata length of 0. */
  static final ByteString END_OF_STREAM = ByteString.copyFrom(
      new byte[] {-1, -1, -1, -1, 0, 0, 0, 0});

  private final List<TensorSpec> columns;
  private final Map<String, Integer> positions = new HashMap<>();
  /** Per column, the datatype that is exactly the model's type; null where none is. */
  private final Datatype[] exact;
  private final ByteString modelSchema;
  /** The schema of the advertised datatypes: what a client reading the metadata sends. */
  private final ByteString advertisedSchema;

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
    // The record batch follows it unpadded: a message of a length not 8-aligned (pyarrow's
    // never is) would misalign every buffer, so such a model is sent the advertised schema.
    this.modelSchema = modelSchema.length > 0 && modelSchema.length % ALIGNMENT == 0
        ? ByteString.copyFrom(modelSchema) : advertisedSchema;
  }

  /** The V2 datatype whose Arrow type is the field's own, if any (not a dictionary's). */
  private static Datatype exactly(Field field) {
    return field.getDictionary() != null ? null
        : Datatype.of(field.getType()).orElse(null);
  }

  /** A schema message of the columns, each of a datatype's Arrow type. */
  private ByteString schemaMessage(Datatype[] types) {
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
    return UnsafeByteOperations.unsafeWrap(out.toByteArray());
  }

  private ByteString schemaFor(Tensor[] ordered) {
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

  /**
   * The request's stream: the schema message, one record batch whose body is the tensors' own
   * bytes (BOOL and BYTES converted), and the end-of-stream marker. Its pieces are joined, not
   * copied: a fixed-width column's values go to the runtime's message as they came in.
   */
  ByteString encode(List<Tensor> tensors) {
    Tensor[] ordered = new Tensor[columns.size()];
    for (Tensor tensor : tensors) {
      ordered[positions.get(tensor.name())] = tensor;
    }
    int rows = ordered.length == 0 ? 0 : Math.toIntExact(ordered[0].elements());
    List<ArrowFieldNode> nodes = new ArrayList<>(ordered.length);
    List<ArrowBuffer> layout = new ArrayList<>(3 * ordered.length);
    ByteString body = ByteString.EMPTY;
    long offset = 0;
    for (Tensor tensor : ordered) {
      nodes.add(new ArrowFieldNode(rows, 0));
      layout.add(new ArrowBuffer(offset, 0)); // no validity buffer: no nulls
      for (ByteString buffer : buffers(tensor, rows)) {
        layout.add(new ArrowBuffer(offset, buffer.size()));
        long padding = padded(buffer.size()) - buffer.size();
        body = body.concat(buffer).concat(ZEROS.substring(0, (int) padding));
        offset += buffer.size() + padding;
      }
    }
    return schemaFor(ordered)
        .concat(framed(recordBatch(rows, nodes, layout, offset)))
        .concat(body)
        .concat(END_OF_STREAM);
  }

  /**
   * The record batch's metadata, built as Arrow's own {@code ArrowRecordBatch} builds it (tests
   * build hostile answers with it too).
   */
  static ByteBuffer recordBatch(int rows, List<ArrowFieldNode> nodes,
      List<ArrowBuffer> layout, long bodyLength) {
    FlatBufferBuilder builder = new FlatBufferBuilder();
    RecordBatch.startNodesVector(builder, nodes.size());
    int nodesOffset = FBSerializables.writeAllStructsToVector(builder, nodes);
    RecordBatch.startBuffersVector(builder, layout.size());
    int buffersOffset = FBSerializables.writeAllStructsToVector(builder, layout);
    RecordBatch.startRecordBatch(builder);
    RecordBatch.addLength(builder, rows);
    RecordBatch.addNodes(builder, nodesOffset);
    RecordBatch.addBuffers(builder, buffersOffset);
    int batch = RecordBatch.endRecordBatch(builder);
    return MessageSerializer.serializeMessage(builder, MessageHeader.RecordBatch, batch,
        bodyLength, IpcOption.DEFAULT);
  }

  /**
   * A message's metadata as Arrow's stream frames it ({@code MessageSerializer
   * .writeMessageBuffer}): the continuation marker, its length padded so that the body starts
   * 8-aligned, the metadata, then the padding.
   */
  static ByteString framed(ByteBuffer metadata) {
    int length = metadata.remaining();
    int paddedLength = Math.toIntExact(padded(length + 8L) - 8);
    ByteBuffer out = ByteBuffer.allocate(8 + paddedLength).order(ByteOrder.LITTLE_ENDIAN);
    out.putInt(ArrowFrames.CONTINUATION).putInt(paddedLength).put(metadata);
    return UnsafeByteOperations.unsafeWrap(out.array());
  }

  /**
   * A column's buffers after its (empty) validity buffer: a fixed-width column its values as
   * they are; BOOL its bits; BYTES its int32 offsets, then its strings' bytes one after another.
   */
  private static List<ByteString> buffers(Tensor tensor, int rows) {
    return switch (tensor.datatype()) {
      case BOOL -> List.of(bits(tensor, rows));
      case BYTES -> strings(tensor, rows);
      default -> List.of(tensor.data());
    };
  }

  /** V2's BOOL (a byte each) packed into Arrow's bits. */
  private static ByteString bits(Tensor tensor, int rows) {
    byte[] bits = new byte[BitVectorHelper.getValidityBufferSizeFromCount(rows)];
    for (int row = 0; row < rows; row++) {
      if (tensor.data().byteAt(row) != 0) {
        bits[row >> 3] |= (byte) (1 << (row & 7));
      }
    }
    return UnsafeByteOperations.unsafeWrap(bits);
  }

  /** V2's BYTES (each a length, then its bytes) as Arrow's offsets and data buffers. */
  private static List<ByteString> strings(Tensor tensor, int rows) {
    ByteBuffer offsets = ByteBuffer.allocate((rows + 1) * Integer.BYTES)
        .order(ByteOrder.LITTLE_ENDIAN);
    byte[] data = new byte[tensor.data().size() - rows * V2Bytes.LENGTH_BYTES];
    ByteBuffer source = V2Bytes.buffer(tensor.data());
    int[] end = {0};
    offsets.putInt(0);
    V2Bytes.forEach(tensor.data(), (row, at, length) -> {
      source.get(at, data, end[0], length);
      end[0] += length;
      offsets.putInt(end[0]);
    });
    return List.of(UnsafeByteOperations.unsafeWrap(offsets.array()),
        UnsafeByteOperations.unsafeWrap(data));
  }

  private static long padded(long size) {
    return (size + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
  }
}
