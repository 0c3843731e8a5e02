package io.pyml.gateway.frontend.oip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
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
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.WriteChannel;
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
        ArrowTensors.encode(ALLOCATOR, List.of(matrix, scalar)));
    assertEquals(2, back.size());
    assertArrayEquals(new long[] {2, 2}, back.get(0).shape());
    assertArrayEquals(matrix.data().toByteArray(), back.get(0).data().toByteArray());
    assertArrayEquals(new long[] {}, back.get(1).shape());
    assertArrayEquals(new byte[] {7}, back.get(1).data().toByteArray());

    Tensor flags = new Tensor("flag", Datatype.BOOL, new long[] {3}, new byte[] {1, 0, 1});
    Tensor values = new Tensor("v", Datatype.FP32, new long[] {3}, floats(5, 6, 7));
    back = ArrowTensors.decode(ALLOCATOR, PayloadKind.DATAFRAME,
        columns("flag", Datatype.BOOL, "v", Datatype.FP32).encode(ALLOCATOR,
            List.of(flags, values)));
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
    byte[] first = encoder.encode(ALLOCATOR, List.of(flags, counts));
    List<Tensor> back = ArrowTensors.decode(ALLOCATOR, PayloadKind.DATAFRAME, first);
    assertEquals(List.of("n", "flag"), back.stream().map(Tensor::name).toList());
    assertArrayEquals(bits, back.get(1).data().toByteArray());
    assertArrayEquals(first, encoder.encode(ALLOCATOR, List.of(counts, flags)));
    assertEquals(0, ALLOCATOR.getAllocatedMemory());
  }

  @Test
  void theModelsOwnSchemaMessageLeadsItsRequests() throws Exception {
    Schema model = new Schema(List.of(
        new Field("v", FieldType.nullable(Datatype.FP64.arrow), null)),
        Map.of("pandas", "{\"columns\": []}"));
    java.io.ByteArrayOutputStream message = new java.io.ByteArrayOutputStream();
    MessageSerializer.serialize(new WriteChannel(Channels.newChannel(message)), model);
    List<TensorSpec> specs = ArrowTensors.specs(PayloadKind.DATAFRAME, message.toByteArray());
    byte[] stream = new ColumnsEncoder(specs, message.toByteArray()).encode(ALLOCATOR,
        List.of(new Tensor("v", Datatype.FP64, new long[] {1}, new byte[8])));
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
