package io.pyml.gateway.frontend.oip;

import static io.pyml.gateway.frontend.oip.OipConvertersTest.input;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.oip.v2.DataType;
import io.pyml.oip.v2.InferTensorContents;
import io.pyml.oip.v2.ModelInferRequest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.TimeStampMicroTZVector;
import org.apache.arrow.vector.TimeStampNanoVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.dictionary.Dictionary;
import org.apache.arrow.vector.dictionary.DictionaryEncoder;
import org.apache.arrow.vector.dictionary.DictionaryProvider;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.DateUnit;
import org.apache.arrow.vector.types.TimeUnit;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.DictionaryEncoding;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.FieldType;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** V2's BYTES tensors (strings): Triton's length-prefixed raw contents, typed contents, Arrow. */
class OipBytesTest {
  static final BufferAllocator ALLOCATOR = new RootAllocator();

  @AfterAll
  static void close() {
    ALLOCATOR.close();
  }

  /** Triton's raw BYTES contents: per element a 4-byte little-endian length, then its bytes. */
  static byte[] prefixed(String... values) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String value : values) {
      byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
      out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
          .putInt(bytes.length).array());
      out.writeBytes(bytes);
    }
    return out.toByteArray();
  }

  static ModelInferRequest raw(long elements, byte[] contents) {
    return ModelInferRequest.newBuilder().setModelName("m")
        .addInputs(input("s", "BYTES", elements))
        .addRawInputContents(ByteString.copyFrom(contents)).build();
  }

  static String refusal(ModelInferRequest request) {
    GatewayException error = assertThrows(GatewayException.class,
        () -> V2Tensors.inputs(request));
    assertEquals(ErrorKind.INVALID_INPUT, error.kind());
    return error.getMessage();
  }

  @Test
  void rawAndTypedBytesContentsGiveTheSameTensor() {
    ModelInferRequest typed = ModelInferRequest.newBuilder().setModelName("m")
        .addInputs(input("s", "BYTES", 3).setContents(InferTensorContents.newBuilder()
            .addBytesContents(ByteString.copyFromUtf8("Rome"))
            .addBytesContents(ByteString.EMPTY)
            .addBytesContents(ByteString.copyFromUtf8("Zürich"))))
        .build();
    Tensor fromTyped = V2Tensors.inputs(typed).get(0);
    Tensor fromRaw = V2Tensors.inputs(raw(3, prefixed("Rome", "", "Zürich"))).get(0);
    assertEquals(Datatype.BYTES, fromTyped.datatype());
    assertEquals(fromRaw.data(), fromTyped.data());
    assertArrayEquals(prefixed("Rome", "", "Zürich"), fromTyped.data().toByteArray());
  }

  @Test
  void hostileRawBytesAreRefusedNamingTheModelInputAndWhatWasExpected() {
    byte[] two = prefixed("ab", "c");
    assertEquals("model 'm': input 's' (BYTES): element 1 of 2 needs 1 bytes, 0 are left"
        + " (expected: 2 elements, each a 4-byte little-endian length then its bytes)",
        refusal(raw(2, java.util.Arrays.copyOf(two, two.length - 1))));
    byte[] twoAndAByte = java.util.Arrays.copyOf(two, 12);
    assertTrue(refusal(raw(3, twoAndAByte)).contains("element 2 of 3 has no 4-byte length"),
        refusal(raw(3, twoAndAByte)));
    assertTrue(refusal(raw(1, two)).contains("5 bytes left over after 1 elements"),
        refusal(raw(1, two)));
    // A length near 4 GiB (and one negative as an int) is refused, not allocated.
    byte[] huge = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 'a'};
    assertTrue(refusal(raw(1, huge)).contains("needs 4294967295 bytes, 1 are left"),
        refusal(raw(1, huge)));
    // More elements than 4-byte lengths fit in the contents: refused before any is read.
    assertTrue(refusal(raw(1_000_000, two)).contains(
        "11 bytes of raw contents cannot hold 1000000 elements"), refusal(raw(1_000_000, two)));
    byte[] latin1 = {1, 0, 0, 0, (byte) 0xe9};
    assertEquals("model 'm': input 's' (BYTES): element 0 is not valid UTF-8"
        + " (expected: text; BYTES tensors carry strings here)", refusal(raw(1, latin1)));
    ModelInferRequest typed = ModelInferRequest.newBuilder().setModelName("m")
        .addInputs(input("s", "BYTES", 2).setContents(InferTensorContents.newBuilder()
            .addBytesContents(ByteString.copyFromUtf8("ok"))
            .addBytesContents(ByteString.copyFrom(new byte[] {(byte) 0xc3}))))
        .build();
    assertTrue(refusal(typed).contains("element 1 is not valid UTF-8"), refusal(typed));
  }

  @Test
  void bytesColumnsAreWrittenAsArrowUtf8AndReadBack() throws Exception {
    Tensor cities = new Tensor("city", Datatype.BYTES, new long[] {3},
        prefixed("Lyon", "", "Zürich"));
    Tensor counts = new Tensor("n", Datatype.INT32, new long[] {3}, new byte[12]);
    ColumnsEncoder encoder = OipConvertersTest.columns("n", Datatype.INT64, "city",
        Datatype.BYTES);
    byte[] stream = encoder.encode(List.of(cities, counts)).toByteArray();
    try (ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(stream),
        ALLOCATOR)) {
      VectorSchemaRoot root = reader.getVectorSchemaRoot();
      // The tensors' own types, since one differs from the model's (INT32 for INT64).
      assertEquals(new ArrowType.Int(32, true), root.getSchema().getFields().get(0).getType());
      assertEquals(new ArrowType.Utf8(), root.getSchema().getFields().get(1).getType());
      assertTrue(reader.loadNextBatch());
      VarCharVector strings = (VarCharVector) root.getVector("city");
      assertEquals("Zürich", strings.getObject(2).toString());
      assertEquals("", strings.getObject(1).toString());
    }
    List<Tensor> back = ArrowTensors.decode(ALLOCATOR, PayloadKind.DATAFRAME,
        ByteString.copyFrom(stream));
    assertEquals(Datatype.BYTES, back.get(1).datatype());
    assertEquals(cities.data(), back.get(1).data());
    assertEquals(0, ALLOCATOR.getAllocatedMemory());
  }

  @Test
  void theModelsSchemaLeadsOnlyWhenEveryTensorHasItsExactType() throws Exception {
    Schema model = new Schema(List.of(
        new Field("n", FieldType.nullable(new ArrowType.Int(64, true)), null),
        new Field("name", FieldType.nullable(new ArrowType.LargeUtf8()), null)));
    byte[] message = schemaMessage(model);
    List<TensorSpec> specs = ArrowTensors.specs(PayloadKind.DATAFRAME, message);
    assertEquals(List.of(Datatype.INT64, Datatype.BYTES),
        specs.stream().map(TensorSpec::datatype).toList());
    ColumnsEncoder encoder = new ColumnsEncoder(specs, message);
    Tensor n = new Tensor("n", Datatype.INT64, new long[] {1}, new byte[8]);
    Tensor name = new Tensor("name", Datatype.BYTES, new long[] {1}, prefixed("x"));
    assertEquals(List.of(new ArrowType.Int(64, true), new ArrowType.Utf8()),
        types(encoder.encode(List.of(n, name)).toByteArray()));

    Schema numbers = new Schema(List.of(
        new Field("n", FieldType.nullable(new ArrowType.Int(64, true)), null)));
    encoder = new ColumnsEncoder(ArrowTensors.specs(PayloadKind.DATAFRAME,
        schemaMessage(numbers)), schemaMessage(numbers));
    assertArrayEquals(schemaMessage(numbers), java.util.Arrays.copyOf(
        encoder.encode(List.of(n)).toByteArray(), schemaMessage(numbers).length));
    assertEquals(List.of(new ArrowType.FloatingPoint(
        org.apache.arrow.vector.types.FloatingPointPrecision.DOUBLE)), types(encoder.encode(
            List.of(new Tensor("n", Datatype.FP64, new long[] {1}, new byte[8]))).toByteArray()));
  }

  @Test
  void stringsCategoriesTimesAndDatesAreAdvertisedAsBytes() throws Exception {
    DictionaryEncoding category = new DictionaryEncoding(0, false, new ArrowType.Int(8, true));
    Schema model = new Schema(List.of(
        new Field("s", FieldType.nullable(new ArrowType.Utf8()), null),
        new Field("l", FieldType.nullable(new ArrowType.LargeUtf8()), null),
        new Field("v", FieldType.nullable(new ArrowType.Utf8View()), null),
        new Field("c", new FieldType(true, new ArrowType.LargeUtf8(), category), null),
        new Field("t", FieldType.nullable(new ArrowType.Timestamp(TimeUnit.MICROSECOND, "UTC")),
            null),
        new Field("d", FieldType.nullable(new ArrowType.Date(DateUnit.DAY)), null)));
    List<TensorSpec> specs = ArrowTensors.specs(PayloadKind.DATAFRAME, schemaMessage(model));
    assertEquals(List.of("s", "l", "v", "c", "t", "d"),
        specs.stream().map(TensorSpec::name).toList());
    specs.forEach(spec -> assertEquals(Datatype.BYTES, spec.datatype(), spec.name()));
    assertEquals(DataType.TYPE_STRING, TritonExtension.dataType(Datatype.BYTES));
    assertEquals(DataType.TYPE_FP64, TritonExtension.dataType(Datatype.FP64));
  }

  @Test
  void dictionaryEncodedStringOutputsComeBackAsBytes() throws Exception {
    byte[] stream;
    try (VarCharVector values = new VarCharVector("dictionary", ALLOCATOR);
        VarCharVector plain = new VarCharVector("label", ALLOCATOR)) {
      values.allocateNew();
      values.setSafe(0, "no".getBytes(StandardCharsets.UTF_8));
      values.setSafe(1, "yes".getBytes(StandardCharsets.UTF_8));
      values.setValueCount(2);
      plain.allocateNew();
      for (int i = 0; i < 3; i++) {
        plain.setSafe(i, (i == 1 ? "no" : "yes").getBytes(StandardCharsets.UTF_8));
      }
      plain.setValueCount(3);
      Dictionary dictionary = new Dictionary(values,
          new DictionaryEncoding(7, false, new ArrowType.Int(32, true)));
      DictionaryProvider.MapDictionaryProvider provider =
          new DictionaryProvider.MapDictionaryProvider(dictionary);
      try (FieldVector encoded = (FieldVector) DictionaryEncoder.encode(plain, dictionary)) {
        List<FieldVector> vectors = new ArrayList<>(List.of(encoded));
        List<Field> fields = List.of(encoded.getField());
        try (VectorSchemaRoot root = new VectorSchemaRoot(fields, vectors, 3)) {
          stream = streamOf(root, provider);
        }
      }
    }
    List<Tensor> back = ArrowTensors.decode(ALLOCATOR, PayloadKind.DATAFRAME,
        ByteString.copyFrom(stream));
    assertEquals(Datatype.BYTES, back.get(0).datatype());
    assertArrayEquals(new long[] {3}, back.get(0).shape());
    assertArrayEquals(prefixed("yes", "no", "yes"), back.get(0).data().toByteArray());
    assertEquals(0, ALLOCATOR.getAllocatedMemory());
  }

  @Test
  void timestampAndDateOutputsComeBackAsIsoText() throws Exception {
    byte[] stream;
    try (TimeStampMicroTZVector zoned = new TimeStampMicroTZVector("zoned", ALLOCATOR,
            "Europe/Paris");
        TimeStampNanoVector naive = new TimeStampNanoVector("naive", ALLOCATOR);
        DateDayVector day = new DateDayVector("day", ALLOCATOR)) {
      long micros = 1_714_557_600_000_000L; // 2024-05-01T10:00:00Z
      zoned.setSafe(0, micros);
      zoned.setSafe(1, micros + 1);
      naive.setSafe(0, -1L); // a nanosecond before 1970
      naive.setSafe(1, micros * 1000);
      day.setSafe(0, 19_844);
      day.setSafe(1, 0);
      List<FieldVector> vectors = List.of(zoned, naive, day);
      vectors.forEach(v -> v.setValueCount(2));
      try (VectorSchemaRoot root = new VectorSchemaRoot(new ArrayList<>(vectors))) {
        root.setRowCount(2);
        stream = streamOf(root, null);
      }
    }
    List<Tensor> back = ArrowTensors.decode(ALLOCATOR, PayloadKind.DATAFRAME,
        ByteString.copyFrom(stream));
    back.forEach(tensor -> assertEquals(Datatype.BYTES, tensor.datatype()));
    assertArrayEquals(prefixed("2024-05-01T12:00:00+02:00", "2024-05-01T12:00:00.000001+02:00"),
        back.get(0).data().toByteArray());
    assertArrayEquals(prefixed("1969-12-31T23:59:59.999999999", "2024-05-01T10:00:00"),
        back.get(1).data().toByteArray());
    assertArrayEquals(prefixed("2024-05-01", "1970-01-01"), back.get(2).data().toByteArray());
    assertEquals(0, ALLOCATOR.getAllocatedMemory());
  }

  @Test
  void aDataFrameModelsInputTypesAreTheRuntimesToJudgeATensorModelsAreNot() {
    List<TensorSpec> specs = List.of(new TensorSpec("age", Datatype.FP64, List.of(-1L)));
    List<Tensor> asText = List.of(new Tensor("age", Datatype.BYTES, new long[] {1},
        prefixed("1")));
    OipService.InputCheck.against("m", PayloadKind.DATAFRAME, specs, asText);
    GatewayException error = assertThrows(GatewayException.class,
        () -> OipService.InputCheck.against("m", PayloadKind.TENSORS, specs, asText));
    assertEquals("model 'm': input 'age': BYTES (expected: FP64)", error.getMessage());
  }

  static byte[] schemaMessage(Schema schema) throws Exception {
    ByteArrayOutputStream message = new ByteArrayOutputStream();
    MessageSerializer.serialize(new WriteChannel(Channels.newChannel(message)), schema);
    return message.toByteArray();
  }

  static List<ArrowType> types(byte[] stream) throws Exception {
    try (ArrowStreamReader reader = new ArrowStreamReader(new ByteArrayInputStream(stream),
        ALLOCATOR)) {
      List<ArrowType> types = reader.getVectorSchemaRoot().getSchema().getFields().stream()
          .map(Field::getType).toList();
      assertTrue(reader.loadNextBatch());
      return types;
    }
  }

  /** The root as one Arrow IPC stream, as a runtime answers. */
  private static byte[] streamOf(VectorSchemaRoot root, DictionaryProvider provider)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ArrowStreamWriter writer = new ArrowStreamWriter(root, provider,
        Channels.newChannel(out))) {
      writer.start();
      writer.writeBatch();
      writer.end();
    }
    return out.toByteArray();
  }
}
