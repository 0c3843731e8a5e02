package io.pyml.gateway.frontend.oip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.oip.v2.InferTensorContents;
import io.pyml.oip.v2.ModelInferRequest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.util.List;
import java.util.Map;
import org.apache.arrow.memory.ArrowBuf;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.ArrowFieldNode;
import org.apache.arrow.vector.ipc.message.ArrowRecordBatch;
import org.apache.arrow.vector.ipc.message.IpcOption;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** V2 tensors ⇄ Arrow payloads without a runtime: what goes in comes back bit for bit. */
class OipConvertersTest {
  static final BufferAllocator ALLOCATOR = new RootAllocator();

  @AfterAll
  static void close() {
    ALLOCATOR.close();
  }

  static ModelInferRequest.InferInputTensor.Builder input(String name, String type,
      long... shape) {
    ModelInferRequest.InferInputTensor.Builder input = ModelInferRequest.InferInputTensor
        .newBuilder().setName(name).setDatatype(type);
    for (long dimension : shape) {
      input.addShape(dimension);
    }
    return input;
  }

  static byte[] floats(float... values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float value : values) {
      buffer.putFloat(value);
    }
    return buffer.array();
  }

  @Test
  void rawAndTypedContentsGiveTheSameBytes() {
    ModelInferRequest raw = ModelInferRequest.newBuilder()
        .addInputs(input("x", "FP32", 2, 2))
        .addRawInputContents(ByteString.copyFrom(floats(1, 2, 3, 4))).build();
    ModelInferRequest typed = ModelInferRequest.newBuilder()
        .addInputs(input("x", "FP32", 2, 2).setContents(InferTensorContents.newBuilder()
            .addFp32Contents(1).addFp32Contents(2).addFp32Contents(3).addFp32Contents(4)))
        .build();
    assertEquals(V2Tensors.inputs(raw).get(0).data(), V2Tensors.inputs(typed).get(0).data());
    assertArrayEquals(floats(1, 2, 3, 4), V2Tensors.inputs(typed).get(0).data().toByteArray());
  }

  @Test
  void sizesThatDoNotMatchTheShapeAreNamed() {
    GatewayException error = assertThrows(GatewayException.class, () -> V2Tensors.inputs(
        ModelInferRequest.newBuilder().addInputs(input("x", "FP32", 3))
            .addRawInputContents(ByteString.copyFrom(floats(1, 2))).build()));
    assertEquals(ErrorKind.INVALID_INPUT, error.kind());
    assertEquals("model '': input 'x': 8 bytes of raw contents for shape [3] of FP32"
        + " (expected: 12 bytes)", error.getMessage());
    error = assertThrows(GatewayException.class, () -> V2Tensors.inputs(
        ModelInferRequest.newBuilder().addInputs(input("b", "BOOL", 2).setContents(
            InferTensorContents.newBuilder().addBoolContents(true))).build()));
    assertEquals("model '': input 'b': 1 BOOL values in contents for shape [2] (expected: 2)",
        error.getMessage());
    error = assertThrows(GatewayException.class, () -> V2Tensors.inputs(
        ModelInferRequest.newBuilder().addInputs(input("s", "BYTES", 1)).build()));
    assertEquals(ErrorKind.INVALID_INPUT, error.kind());
  }

  @Test
  void tensorsAndColumnsRoundTripThroughArrow() {
    Tensor matrix = new Tensor("x", Datatype.FP32, new long[] {2, 2}, floats(1, 2, 3, 4));
    Tensor scalar = new Tensor("n", Datatype.INT8, new long[] {}, new byte[] {7});
    List<Tensor> back = ArrowTensors.decode(ALLOCATOR, PayloadKind.TENSORS,
        ByteString.copyFrom(ArrowTensors.encode(ALLOCATOR, List.of(matrix, scalar))));
    assertEquals(2, back.size());
    assertArrayEquals(new long[] {2, 2}, back.get(0).shape());
    assertArrayEquals(matrix.data().toByteArray(), back.get(0).data().toByteArray());
    assertArrayEquals(new long[] {}, back.get(1).shape());
    assertArrayEquals(new byte[] {7}, back.get(1).data().toByteArray());

    Tensor flags = new Tensor("flag", Datatype.BOOL, new long[] {3}, new byte[] {1, 0, 1});
    Tensor values = new Tensor("v", Datatype.FP32, new long[] {3}, floats(5, 6, 7));
    back = ArrowTensors.decode(ALLOCATOR, PayloadKind.DATAFRAME,
        columns("flag", Datatype.BOOL, "v", Datatype.FP32).encode(List.of(flags, values)));
    assertEquals(Datatype.BOOL, back.get(0).datatype());
    assertArrayEquals(new byte[] {1, 0, 1}, back.get(0).data().toByteArray());
    assertArrayEquals(new long[] {3}, back.get(1).shape());
    assertArrayEquals(values.data().toByteArray(), back.get(1).data().toByteArray());
  }

  @Test
  void columnsAreWrittenInTheModelsOrderWithTheirBitsPacked() {
    byte[] bits = {1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1};
    Tensor flags = new Tensor("flag", Datatype.BOOL, new long[] {11}, bits);
    Tensor counts = new Tensor("n", Datatype.INT64, new long[] {11}, new byte[88]);
    ColumnsEncoder encoder = columns("n", Datatype.INT64, "flag", Datatype.BOOL);
    byte[] first = encoder.encode(List.of(flags, counts)).toByteArray();
    List<Tensor> back = ArrowTensors.decode(ALLOCATOR, PayloadKind.DATAFRAME,
        ByteString.copyFrom(first));
    assertEquals(List.of("n", "flag"), back.stream().map(Tensor::name).toList());
    assertArrayEquals(bits, back.get(1).data().toByteArray());
    assertArrayEquals(first, encoder.encode(List.of(counts, flags)).toByteArray());
    assertEquals(0, ALLOCATOR.getAllocatedMemory());
  }

  @Test
  void theStreamIsWhatArrowsOwnSerializerWrites() throws Exception {
    Tensor counts = new Tensor("n", Datatype.INT64, new long[] {3}, longs(7, -1, 1L << 40));
    Tensor flags = new Tensor("flag", Datatype.BOOL, new long[] {3}, new byte[] {1, 0, 1});
    Tensor words = new Tensor("s", Datatype.BYTES, new long[] {3},
        OipBytesTest.prefixed("a", "bcd", ""));
    Tensor values = new Tensor("v", Datatype.FP32, new long[] {3}, floats(5, 6, 7));
    ColumnsEncoder encoder = new ColumnsEncoder(List.of(spec(counts), spec(flags), spec(words),
        spec(values)));
    byte[] offsets = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
        .putInt(0).putInt(1).putInt(4).putInt(4).array();
    byte[] expected = arrowsOwn(List.of(counts, flags, words, values), List.of(
        counts.data().toByteArray(), new byte[] {0b101}, offsets, "abcd".getBytes(UTF_8),
        values.data().toByteArray()));
    assertArrayEquals(expected, encoder.encode(List.of(values, words, flags, counts))
        .toByteArray());
  }

  @Test
  void fixedWidthColumnsReachTheRuntimesMessageWithoutACopy() throws Exception {
    // 1,000 rows: protobuf joins pieces under 128 bytes by copying them, which costs less.
    byte[] values = new byte[8_000];
    Tensor counts = new Tensor("n", Datatype.INT64, new long[] {1_000},
        UnsafeByteOperations.unsafeWrap(values));
    ByteString stream = new ColumnsEncoder(List.of(spec(counts))).encode(List.of(counts));
    values[0] = 42; // the client's bytes, seen through the stream: they were not copied
    try (ArrowStreamReader reader = new ArrowStreamReader(stream.newInput(), ALLOCATOR)) {
      assertTrue(reader.loadNextBatch());
      assertEquals(42, ((BigIntVector) reader.getVectorSchemaRoot().getVector("n")).get(0));
    }
  }

  static TensorSpec spec(Tensor tensor) {
    return new TensorSpec(tensor.name(), tensor.datatype(), List.of(-1L));
  }

  static byte[] longs(long... values) {
    ByteBuffer buffer = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long value : values) {
      buffer.putLong(value);
    }
    return buffer.array();
  }

  /**
   * The stream Arrow's own writer makes of {@code columns}' schema and one record batch with
   * {@code buffers} (no validity buffers): each column's buffers copied in, 8-aligned.
   */
  static byte[] arrowsOwn(List<Tensor> columns, List<byte[]> buffers) throws Exception {
    Schema schema = new Schema(columns.stream().map(t -> new Field(t.name(),
        FieldType.nullable(t.datatype().arrow), null)).toList());
    long size = buffers.stream().mapToLong(b -> (b.length + 7) / 8 * 8).sum();
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    WriteChannel channel = new WriteChannel(Channels.newChannel(out));
    MessageSerializer.serialize(channel, schema);
    try (ArrowBuf body = ALLOCATOR.buffer(size)) {
      List<ArrowBuf> slices = new java.util.ArrayList<>();
      long offset = 0;
      int next = 0;
      for (Tensor column : columns) {
        slices.add(body.slice(offset, 0));
        int count = column.datatype() == Datatype.BYTES ? 2 : 1;
        for (int i = 0; i < count; i++, next++) {
          byte[] buffer = buffers.get(next);
          body.setBytes(offset, buffer);
          slices.add(body.slice(offset, buffer.length));
          offset += (buffer.length + 7) / 8 * 8;
        }
      }
      List<ArrowFieldNode> nodes = columns.stream().map(c -> new ArrowFieldNode(3, 0)).toList();
      try (ArrowRecordBatch batch = new ArrowRecordBatch(3, nodes, slices)) {
        MessageSerializer.serialize(channel, batch);
      }
    }
    ArrowStreamWriter.writeEndOfStream(channel, IpcOption.DEFAULT);
    return out.toByteArray();
  }

  @Test
  void theModelsOwnSchemaMessageLeadsItsRequests() throws Exception {
    Schema model = new Schema(List.of(
        new Field("v", FieldType.nullable(Datatype.FP64.arrow), null)),
        Map.of("pandas", "{\"columns\": []}"));
    java.io.ByteArrayOutputStream message = new java.io.ByteArrayOutputStream();
    MessageSerializer.serialize(new WriteChannel(Channels.newChannel(message)), model);
    List<TensorSpec> specs = ArrowTensors.specs(PayloadKind.DATAFRAME, message.toByteArray());
    byte[] stream = new ColumnsEncoder(specs, message.toByteArray()).encode(
        List.of(new Tensor("v", Datatype.FP64, new long[] {1}, new byte[8]))).toByteArray();
    try (ArrowStreamReader reader = new ArrowStreamReader(
        new java.io.ByteArrayInputStream(stream), ALLOCATOR)) {
      assertEquals(model, reader.getVectorSchemaRoot().getSchema());
      assertEquals(true, reader.loadNextBatch());
      assertEquals(1, reader.getVectorSchemaRoot().getRowCount());
    }
  }

  static ColumnsEncoder columns(String name, Datatype type, String otherName, Datatype other) {
    return new ColumnsEncoder(List.of(new TensorSpec(name, type, List.of(-1L)),
        new TensorSpec(otherName, other, List.of(-1L))));
  }

  @Test
  void inputsAreCheckedAgainstTheModelsNamesAndDatatypes() {
    List<TensorSpec> specs = List.of(new TensorSpec("age", Datatype.FP64, List.of(-1L)),
        new TensorSpec("size", Datatype.FP64, List.of(-1L)));
    Tensor age = new Tensor("age", Datatype.FP64, new long[] {1}, new byte[8]);
    GatewayException error = assertThrows(GatewayException.class, () ->
        OipService.InputCheck.against("m", PayloadKind.TENSORS, specs, List.of(
            new Tensor("age", Datatype.INT64, new long[] {1}, new byte[8]))));
    assertEquals("model 'm': input 'age': INT64 (expected: FP64)", error.getMessage());
    error = assertThrows(GatewayException.class, () ->
        OipService.InputCheck.against("m", PayloadKind.DATAFRAME, specs, List.of(age)));
    assertEquals("model 'm': missing inputs [size]", error.getMessage());
    error = assertThrows(GatewayException.class, () ->
        OipService.InputCheck.against("m", PayloadKind.DATAFRAME, specs, List.of(age,
            new Tensor("size", Datatype.FP64, new long[] {2}, new byte[16]))));
    assertEquals("model 'm': input 'size' has 2 rows (expected: 1, as the inputs before it)",
        error.getMessage());
  }
}
