package io.pyml.gateway.frontend.oip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.oip.v2.ModelInferRequest;
import io.pyml.oip.v2.ModelInferResponse;
import io.pyml.oip.v2.ModelMetadataResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** KServe V2 JSON to and from the OIP gRPC binding's messages. */
class V2JsonTest {
  static final JsonFactory JSON = V2Json.factory(1 << 20);

  static ModelInferRequest parse(String body) {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    return V2Json.request(JSON, bytes, V2Json.header(JSON, bytes, "m"), "m", "");
  }

  static String refusal(String body) {
    GatewayException error = assertThrows(GatewayException.class, () -> parse(body));
    assertEquals(ErrorKind.INVALID_INPUT, error.kind());
    assertTrue(error.getMessage().startsWith("model 'm': "), error.getMessage());
    return error.getMessage();
  }

  @Test
  void nestedAndFlatDataGiveTheSameTensorInAnyFieldOrder() {
    ModelInferRequest flat = parse("{\"id\": \"r1\", \"inputs\": [{\"name\": \"x\", \"shape\":"
        + " [2, 2], \"datatype\": \"FP32\", \"data\": [1, 2.5, 3, 4]}], \"outputs\":"
        + " [{\"name\": \"y\", \"parameters\": {\"binary_data\": false}}]}");
    ModelInferRequest nested = parse("{\"inputs\": [{\"data\": [[1, 2.5], [3, 4]],"
        + " \"parameters\": {}, \"datatype\": \"FP32\", \"shape\": [2, 2], \"name\": \"x\"}]}");
    assertEquals("r1", flat.getId());
    assertEquals("y", flat.getOutputs(0).getName());
    assertEquals(V2Tensors.inputs(flat).get(0).data(), V2Tensors.inputs(nested).get(0).data());
    assertArrayEquals(new long[] {2, 2}, V2Tensors.inputs(nested).get(0).shape());
    assertEquals(2.5f, nested.getInputs(0).getContents().getFp32Contents(1));
  }

  @Test
  void everyDatatypeReadsItsRange() {
    ModelInferRequest request = parse("{\"inputs\": ["
        + "{\"name\": \"b\", \"shape\": [2], \"datatype\": \"BOOL\", \"data\": [true, false]},"
        + "{\"name\": \"i8\", \"shape\": [2], \"datatype\": \"INT8\", \"data\": [-128, 127]},"
        + "{\"name\": \"u8\", \"shape\": [1], \"datatype\": \"UINT8\", \"data\": [255]},"
        + "{\"name\": \"i64\", \"shape\": [1], \"datatype\": \"INT64\","
        + " \"data\": [-9223372036854775808]},"
        + "{\"name\": \"u64\", \"shape\": [1], \"datatype\": \"UINT64\","
        + " \"data\": [18446744073709551615]},"
        + "{\"name\": \"f64\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [1e300]}]}");
    assertEquals(6, V2Tensors.inputs(request).size());
    assertEquals(-1L, request.getInputs(4).getContents().getUint64Contents(0));
    assertEquals(255, request.getInputs(2).getContents().getUintContents(0));
  }

  @Test
  void badValuesAreNamedWithWhatWasExpected() {
    assertTrue(refusal(tensor("INT8", "[1]", "[300]")).endsWith(
        "input 'x' (INT8): data[0] is 300 (expected: an integer from -128 to 127)"));
    assertTrue(refusal(tensor("INT32", "[2]", "[1, 1.5]")).contains(
        "data[1] is 1.5 (expected: an integer"));
    assertTrue(refusal(tensor("FP32", "[1]", "[\"a\"]")).contains(
        "data[0] is a (expected: a number)"));
    assertTrue(refusal(tensor("FP32", "[1]", "[1e39]")).contains("within FP32's range"));
    assertTrue(refusal(tensor("BOOL", "[1]", "[1]")).contains("(expected: true or false)"));
    assertTrue(refusal(tensor("UINT64", "[1]", "[-1]")).contains("from 0 to"));
  }

  @Test
  void dataLongerThanItsShapeIsRefusedAtItsFirstExtraValue() {
    assertTrue(refusal(tensor("FP64", "[2]", "[1, 2, 3]")).endsWith(
        "input 'x' (FP64): data holds more than the 2 values of shape [2]"));
    // Shorter: V2Tensors' own check, as for gRPC's typed contents.
    GatewayException shorter = assertThrows(GatewayException.class,
        () -> V2Tensors.inputs(parse(tensor("FP64", "[3]", "[1, 2]"))));
    assertTrue(shorter.getMessage().contains("2 FP64 values in contents for shape [3]"),
        shorter.getMessage());
  }

  @Test
  void malformedRequestsAreRefusedBeforeAnyDataIsRead() {
    assertTrue(refusal("[1]").contains("the request body (expected: a JSON object)"));
    assertTrue(refusal("{}").contains("(expected: an 'inputs' array)"));
    assertTrue(refusal("{\"inputs\": [{\"name\": \"x\", \"data\": [1]}]}").contains(
        "input 'x' (expected: 'datatype', 'shape' and 'data')"));
    assertTrue(refusal(tensor("FP16", "[1]", "[1]")).contains("datatype 'FP16'"));
    assertTrue(refusal(tensor("FP64", "[-1]", "[1]")).contains("has a negative dimension"));
    assertTrue(refusal(tensor("FP64", "[1000000000]", "[1]")).contains("is too large"));
    assertTrue(refusal("{\"inputs\": [], \"inputs\": []}").contains("not valid V2 JSON"));
    assertTrue(refusal("{\"inputs\": [{\"name\": \"x\"").contains("not valid V2 JSON"));
    assertTrue(refusal("{\"inputs\": []} {}").contains(
        "content after the JSON object (expected: nothing: tensors' data as JSON"));
    String deep = "[".repeat(100) + "]".repeat(100);
    assertTrue(refusal(tensor("FP64", "[0]", deep)).contains("not valid V2 JSON"));
  }

  @Test
  void theHeaderGivesTheTensorsBytesBeforeTheirDataIsRead() {
    byte[] body = tensor("FP64", "[100, 10]", "[]").getBytes(StandardCharsets.UTF_8);
    assertEquals(8000, V2Json.header(JSON, body, "m").tensorBytes());
  }

  @Test
  void answersAreFlatArraysOfTheirDatatype() throws Exception {
    ByteBuffer floats = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN)
        .putFloat(0.5f).putFloat(-2f);
    ByteBuffer unsigned = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L);
    ModelInferResponse response = ModelInferResponse.newBuilder()
        .setModelName("m").setModelVersion("3").setId("r1")
        .addOutputs(output("p", "FP32", 2, 1))
        .addRawOutputContents(ByteString.copyFrom(floats.array()))
        .addOutputs(output("u", "UINT64", 1))
        .addRawOutputContents(ByteString.copyFrom(unsigned.array()))
        .addOutputs(output("b", "BOOL", 2))
        .addRawOutputContents(ByteString.copyFrom(new byte[] {1, 0}))
        .build();
    JsonNode json = new ObjectMapper().readTree(V2JsonAnswers.response(JSON, response));
    assertEquals("m", json.get("model_name").asText());
    assertEquals("3", json.get("model_version").asText());
    assertEquals("r1", json.get("id").asText());
    assertEquals("[{\"name\":\"p\",\"datatype\":\"FP32\",\"shape\":[2,1],\"data\":[0.5,-2.0]},"
        + "{\"name\":\"u\",\"datatype\":\"UINT64\",\"shape\":[1],"
        + "\"data\":[18446744073709551615]},"
        + "{\"name\":\"b\",\"datatype\":\"BOOL\",\"shape\":[2],\"data\":[true,false]}]",
        json.get("outputs").toString());
  }

  @Test
  void bytesDataIsStringsBothWays() throws Exception {
    ModelInferRequest request = parse(tensor("BYTES", "[3]", "[\"Rome\", \"\", \"Zürich\"]"));
    assertEquals(ByteString.copyFromUtf8("Zürich"),
        request.getInputs(0).getContents().getBytesContents(2));
    Tensor tensor = V2Tensors.inputs(request).get(0);
    assertArrayEquals(OipBytesTest.prefixed("Rome", "", "Zürich"), tensor.data().toByteArray());
    assertTrue(refusal(tensor("BYTES", "[1]", "[1]")).endsWith(
        "input 'x' (BYTES): data[0] is 1 (expected: a string)"));
    // At least 4 bytes per element (its length) before the data is read: a bound.
    byte[] body = tensor("BYTES", "[100]", "[]").getBytes(StandardCharsets.UTF_8);
    assertEquals(400, V2Json.header(JSON, body, "m").tensorBytes());

    ModelInferResponse response = ModelInferResponse.newBuilder().setModelName("m")
        .setModelVersion("1").addOutputs(output("s", "BYTES", 2))
        .addRawOutputContents(ByteString.copyFrom(OipBytesTest.prefixed("a\"b", "é")))
        .build();
    JsonNode json = new ObjectMapper().readTree(V2JsonAnswers.response(JSON, response));
    assertEquals("[{\"name\":\"s\",\"datatype\":\"BYTES\",\"shape\":[2],"
        + "\"data\":[\"a\\\"b\",\"é\"]}]", json.get("outputs").toString());
  }

  @Test
  void metadataShapesAreNumbers() throws Exception {
    ModelMetadataResponse metadata = ModelMetadataResponse.newBuilder().setName("m")
        .addVersions("3").setPlatform("pyml_dataframe")
        .addInputs(ModelMetadataResponse.TensorMetadata.newBuilder().setName("x")
            .setDatatype("FP64").addShape(-1))
        .build();
    assertEquals("{\"name\":\"m\",\"versions\":[\"3\"],\"platform\":\"pyml_dataframe\","
        + "\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP64\",\"shape\":[-1]}],\"outputs\":[]}",
        new String(V2JsonAnswers.metadata(JSON, metadata), StandardCharsets.UTF_8));
  }

  static String tensor(String datatype, String shape, String data) {
    return "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"" + datatype + "\", \"shape\": "
        + shape + ", \"data\": " + data + "}]}";
  }

  static ModelInferResponse.InferOutputTensor.Builder output(String name, String type,
      long... shape) {
    ModelInferResponse.InferOutputTensor.Builder output = ModelInferResponse.InferOutputTensor
        .newBuilder().setName(name).setDatatype(type);
    for (long dimension : shape) {
      output.addShape(dimension);
    }
    return output;
  }
}
