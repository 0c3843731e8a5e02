package io.pyml.gateway.frontend.oip;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.PayloadKind;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.arrow.flatbuf.Message;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.vector.BitVector;
import org.apache.arrow.vector.BitVectorHelper;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.DateMilliVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.TimeStampVector;
import org.apache.arrow.vector.ValueVector;
import org.apache.arrow.vector.VariableWidthFieldVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.dictionary.DictionaryEncoder;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;

/**
 * Tensors ⇄ PyML's Arrow payloads (docs/wire-format.md), where the gateway re-encodes: OIP
 * clients do not speak Arrow. DataFrame: one 1-D tensor per column (requests are written by
 * {@link ColumnsEncoder}). Tensors: one row, each column an {@code arrow.fixed_shape_tensor} (a
 * fixed-size list plus the extension's name and its JSON metadata, which pyarrow reads as the
 * extension type).
 */
final class ArrowTensors {
  static final String EXTENSION_NAME = "ARROW:extension:name";
  static final String EXTENSION_METADATA = "ARROW:extension:metadata";
  static final String TENSOR_EXTENSION = "arrow.fixed_shape_tensor";
  private static final Pattern SHAPE = Pattern.compile("\"shape\"\\s*:\\s*\\[([^\\]]*)\\]");

  private ArrowTensors() {}

  /** A tensors model's request: one row, a fixed-shape tensor column per tensor. */
  static byte[] encode(BufferAllocator allocator, List<Tensor> tensors) {
    List<Field> fields = new ArrayList<>();
    for (Tensor tensor : tensors) {
      fields.add(tensorField(tensor));
    }
    try (VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(fields), allocator)) {
      for (int i = 0; i < tensors.size(); i++) {
        FixedSizeListVector list = (FixedSizeListVector) root.getVector(i);
        list.allocateNew();
        fill(list.getDataVector(), tensors.get(i));
        list.setNotNull(0);
        list.setValueCount(1);
      }
      root.setRowCount(1);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (ArrowStreamWriter writer = new ArrowStreamWriter(root, null, Channels.newChannel(out))) {
        writer.start();
        writer.writeBatch();
        writer.end();
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new GatewayException(ErrorKind.INTERNAL, "cannot write Arrow: " + e.getMessage(), e);
    }
  }

  private static Field tensorField(Tensor tensor) {
    StringBuilder shape = new StringBuilder();
    for (long dimension : tensor.shape()) {
      shape.append(shape.length() == 0 ? "" : ",").append(dimension);
    }
    Map<String, String> metadata = Map.of(EXTENSION_NAME, TENSOR_EXTENSION,
        EXTENSION_METADATA, "{\"shape\":[" + shape + "]}");
    Field item = new Field("item", FieldType.nullable(tensor.datatype().arrow), null);
    return new Field(tensor.name(), new FieldType(true,
        new ArrowType.FixedSizeList(Math.toIntExact(tensor.elements())), null, metadata),
        List.of(item));
  }

  /** Copies the little-endian values in (Arrow buffers are little-endian too); all valid. */
  private static void fill(FieldVector vector, Tensor tensor) {
    int count = Math.toIntExact(tensor.elements());
    vector.setInitialCapacity(count);
    vector.allocateNew();
    ArrowBuf validity = vector.getValidityBuffer();
    ArrowBuf data = vector.getDataBuffer();
    if (vector instanceof BitVector) {
      for (int i = 0; i < count; i++) {
        BitVectorHelper.setValidityBit(data, i, tensor.data().byteAt(i) != 0 ? 1 : 0);
      }
    } else {
      data.setBytes(0, tensor.data().asReadOnlyByteBuffer());
    }
    for (int i = 0; i < count; i++) {
      BitVectorHelper.setBit(validity, i);
    }
    vector.setValueCount(count);
  }

  /**
   * The tensors of an Arrow payload the runtime answered with. A DataFrame's strings (and
   * categories of strings) become BYTES; its timestamps and dates ISO-8601 text. Read from the
   * answer's own bytes; each column is copied once, from Arrow's buffer into its tensor.
   */
  static List<Tensor> decode(BufferAllocator allocator, PayloadKind kind, ByteString ipc) {
    try (ArrowStreamReader reader = new ArrowStreamReader(ipc.newInput(), allocator)) {
      VectorSchemaRoot root = reader.getVectorSchemaRoot();
      ByteString[] columns = new ByteString[root.getFieldVectors().size()];
      Arrays.fill(columns, ByteString.EMPTY);
      long rows = 0;
      while (reader.loadNextBatch()) {
        rows += root.getRowCount();
        for (int i = 0; i < columns.length; i++) {
          FieldVector vector = root.getVector(i);
          FieldVector values = vector instanceof FixedSizeListVector list ? list.getDataVector()
              : vector;
          if (vector.getNullCount() > 0 || values.getNullCount() > 0) {
            throw output(vector.getName(), "has nulls (V2 tensors cannot hold them)");
          }
          DictionaryEncoding encoding = vector.getField().getDictionary();
          if (kind == PayloadKind.DATAFRAME && encoding != null) {
            try (ValueVector decoded = DictionaryEncoder.decode(vector,
                reader.lookup(encoding.getId()), allocator)) {
              columns[i] = columns[i].concat(raw((FieldVector) decoded));
            }
          } else {
            columns[i] = columns[i].concat(raw(values));
          }
        }
      }
      List<Tensor> tensors = new ArrayList<>();
      for (int i = 0; i < columns.length; i++) {
        Field field = root.getSchema().getFields().get(i);
        DictionaryEncoding encoding = field.getDictionary();
        if (kind == PayloadKind.DATAFRAME && encoding != null) {
          // In memory a dictionary column is its indices; its values' type is the column's.
          field = reader.lookup(encoding.getId()).getVector().getField();
        }
        TensorSpec spec = spec(kind, field, false);
        long[] shape = kind == PayloadKind.TENSORS ? spec.shape().stream()
            .mapToLong(Long::longValue).toArray() : new long[] {rows};
        tensors.add(new Tensor(root.getSchema().getFields().get(i).getName(), spec.datatype(),
            shape, columns[i]));
      }
      return tensors;
    } catch (GatewayException e) {
      throw e;
    } catch (IOException | RuntimeException e) { // Arrow's reader on what a model wrote
      throw new GatewayException(ErrorKind.INTERNAL,
          "cannot read the runtime's Arrow answer: " + e, e);
    }
  }

  /** A vector's values in V2's raw form, in one array of their size. */
  private static ByteString raw(FieldVector values) {
    int count = values.getValueCount();
    if (values instanceof BitVector bits) {
      byte[] out = new byte[count];
      for (int i = 0; i < count; i++) {
        out[i] = (byte) bits.get(i);
      }
      return UnsafeByteOperations.unsafeWrap(out);
    }
    if (values instanceof VariableWidthFieldVector text) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (int i = 0; i < count; i++) {
        appendBytes(out, text.get(i));
      }
      return UnsafeByteOperations.unsafeWrap(out.toByteArray());
    }
    if (values instanceof TimeStampVector || values instanceof DateDayVector
        || values instanceof DateMilliVector) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      for (int i = 0; i < count; i++) {
        appendBytes(out, IsoText.of(values, i).getBytes(StandardCharsets.UTF_8));
      }
      return UnsafeByteOperations.unsafeWrap(out.toByteArray());
    }
    int width = Datatype.of(values.getField().getType()).orElseThrow(() -> output(
        values.getName(), "is of Arrow type " + values.getField().getType()
            + ", which has no V2 datatype here")).width;
    byte[] bytes = new byte[Math.multiplyExact(count, width)];
    values.getDataBuffer().getBytes(0, bytes);
    return UnsafeByteOperations.unsafeWrap(bytes);
  }

  /** A BYTES element in V2's raw form: its 4-byte little-endian length, then its bytes. */
  private static void appendBytes(ByteArrayOutputStream out, byte[] element) {
    out.writeBytes(ByteBuffer.allocate(V2Bytes.LENGTH_BYTES).order(ByteOrder.LITTLE_ENDIAN)
        .putInt(element.length).array());
    out.writeBytes(element);
  }

  /** The tensors a schema describes (from the runtime's metadata): what ModelMetadata shows. */
  static List<TensorSpec> specs(PayloadKind kind, byte[] schemaMessage) {
    if (schemaMessage.length == 0) {
      return List.of();
    }
    return schema(schemaMessage).getFields().stream().map(f -> spec(kind, f, true)).toList();
  }

  /** A schema message from the runtime's metadata (a dictionary field has its values' type). */
  static Schema schema(byte[] schemaMessage) {
    // Checked first (the runtime runs model code), then converted from the message read there.
    Message message = ArrowFrames.of(ByteBuffer.wrap(schemaMessage), "the model's Arrow schema")
        .get(0).message();
    try {
      return MessageSerializer.deserializeSchema(message);
    } catch (RuntimeException e) {
      throw new GatewayException(ErrorKind.INTERNAL,
          "cannot read the model's Arrow schema: " + e.getMessage(), e);
    }
  }

  /** variableFirst: the validation data's leading size stands for "any" (-1). */
  private static TensorSpec spec(PayloadKind kind, Field field, boolean variableFirst) {
    if (kind != PayloadKind.TENSORS) {
      return new TensorSpec(field.getName(), columnDatatype(field), List.of(-1L));
    }
    Map<String, String> metadata = field.getMetadata();
    if (!TENSOR_EXTENSION.equals(metadata.get(EXTENSION_NAME))
        || field.getChildren().size() != 1) {
      throw output(field.getName(), "is not an " + TENSOR_EXTENSION);
    }
    Matcher matcher = SHAPE.matcher(metadata.getOrDefault(EXTENSION_METADATA, ""));
    if (!matcher.find()) {
      throw output(field.getName(), "has no tensor shape in its metadata");
    }
    List<Long> shape = new ArrayList<>();
    for (String dimension : matcher.group(1).split(",")) {
      if (!dimension.isBlank()) {
        shape.add(Long.parseLong(dimension.trim()));
      }
    }
    if (variableFirst && !shape.isEmpty()) {
      shape.set(0, -1L);
    }
    return new TensorSpec(field.getName(), datatype(field, field.getChildren().get(0).getType()),
        shape);
  }

  /**
   * A DataFrame column's V2 datatype: its own where V2 has one; BYTES (text) for strings of
   * any Arrow kind, categories of strings (a dictionary field's type is its values'), and
   * timestamps and dates, which travel as ISO-8601 text: the runtime's conversion rule makes
   * the model's type from text (a category with the validation data's categories; a timestamp
   * in the model's unit and zone, text without an offset read as UTC).
   */
  static Datatype columnDatatype(Field field) {
    ArrowType type = field.getType();
    if (type instanceof ArrowType.Utf8 || type instanceof ArrowType.LargeUtf8
        || type instanceof ArrowType.Utf8View || type instanceof ArrowType.Timestamp
        || type instanceof ArrowType.Date) {
      return Datatype.BYTES;
    }
    return datatype(field, type);
  }

  private static Datatype datatype(Field field, ArrowType type) {
    return Datatype.of(type).orElseThrow(() -> output(field.getName(),
        "is of Arrow type " + type + ", which has no V2 datatype here"));
  }

  private static GatewayException output(String name, String what) {
    return new GatewayException(ErrorKind.INTERNAL, "tensor '" + name + "' " + what);
  }
}
