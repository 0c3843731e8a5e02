package io.pyml.gateway.frontend.oip;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.google.protobuf.ByteString;
import io.pyml.gateway.core.GatewayException;
import io.pyml.oip.v2.InferTensorContents;
import io.pyml.oip.v2.ModelInferRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * The Open Inference Protocol's HTTP/REST binding (KServe V2 JSON) as the gRPC binding's
 * messages: a request body becomes the {@link ModelInferRequest} that {@link OipService#infer}
 * takes (typed contents); its answer becomes JSON in {@link V2JsonAnswers}. So both bindings
 * share one conversion to and from Arrow.
 *
 * <p>Bodies are read as token streams, never as trees: first what the inputs are (names,
 * datatypes, shapes; their data skipped), then each input's data straight into typed contents,
 * refused at its first value beyond what its shape holds.
 */
public final class V2Json {
  /** Deeper than any tensor's nesting a client would send; Jackson refuses deeper documents. */
  static final int MAX_NESTING = 64;

  private V2Json() {}

  /** A parser factory whose documents are bounded: size, nesting, numbers, strings, names. */
  public static JsonFactory factory(int maxBodyBytes) {
    return JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxDocumentLength(maxBodyBytes)
            .maxNestingDepth(MAX_NESTING)
            .maxNumberLength(64)
            .maxStringLength(64 * 1024)
            .maxNameLength(1024)
            .build())
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build();
  }

  /** An input as the request declares it; {@code dataAt}: where its data array starts. */
  record Input(String name, Datatype datatype, long[] shape, long elements, long dataAt) {}

  /**
   * What a request asks, its data not read yet. BYTES data is strings (typed contents'
   * {@code bytes_contents}, one entry per element).
   */
  public record Header(String id, List<Input> inputs, List<String> outputs) {
    /**
     * The bytes the inputs' values take as tensors (a lower bound of the model's payload:
     * a BYTES element counts its 4-byte length only).
     */
    public long tensorBytes() {
      long bytes = 0;
      for (Input input : inputs) {
        bytes += input.elements() * input.datatype().width; // each fits an int: no overflow
      }
      return bytes;
    }
  }

  /** The request's id, inputs (checked: datatype, shape) and requested outputs; data skipped. */
  public static Header header(JsonFactory json, byte[] body, String model) {
    try (JsonParser parser = json.createParser(body)) {
      expect(parser.nextToken() == JsonToken.START_OBJECT, model, "the request body",
          "a JSON object");
      String id = "";
      List<Input> inputs = null;
      List<String> outputs = List.of();
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        switch (field) {
          case "id" -> id = text(parser, model, "'id'");
          case "inputs" -> inputs = inputs(parser, model);
          case "outputs" -> outputs = outputs(parser, model);
          default -> parser.skipChildren(); // parameters; extensions
        }
      }
      expect(inputs != null, model, "the request body", "an 'inputs' array");
      // Triton's binary tensor extension puts raw bytes after the JSON: not served.
      expect(parser.nextToken() == null, model, "content after the JSON object",
          "nothing: tensors' data as JSON, no binary data extension");
      return new Header(id, inputs, outputs);
    } catch (JsonProcessingException e) {
      throw notJson(model, e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Input> inputs(JsonParser parser, String model) throws IOException {
    expect(parser.currentToken() == JsonToken.START_ARRAY, model, "'inputs'", "an array");
    List<Input> inputs = new ArrayList<>();
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      inputs.add(input(parser, model, inputs.size()));
    }
    return inputs;
  }

  private static Input input(JsonParser parser, String model, int index) throws IOException {
    String where = "inputs[" + index + "]";
    expect(parser.currentToken() == JsonToken.START_OBJECT, model, where, "an object");
    String name = null;
    String datatype = null;
    long[] shape = null;
    long dataAt = -1;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      parser.nextToken();
      switch (field) {
        case "name" -> name = text(parser, model, where + ".name");
        case "datatype" -> datatype = text(parser, model, where + ".datatype");
        case "shape" -> shape = shape(parser, model, where + ".shape");
        case "data" -> {
          expect(parser.currentToken() == JsonToken.START_ARRAY, model, where + ".data",
              "an array");
          dataAt = parser.currentTokenLocation().getByteOffset();
          parser.skipChildren();
        }
        default -> parser.skipChildren(); // parameters
      }
    }
    expect(name != null, model, where, "a 'name'");
    expect(datatype != null && shape != null && dataAt >= 0, model, "input '" + name + "'",
        "'datatype', 'shape' and 'data'");
    try {
      Datatype type = V2Tensors.datatype(name, datatype);
      return new Input(name, type, shape, V2Tensors.elements(name, type, shape), dataAt);
    } catch (GatewayException e) {
      throw V2Tensors.invalid("model '" + model + "': " + e.getMessage());
    }
  }

  private static long[] shape(JsonParser parser, String model, String where) throws IOException {
    expect(parser.currentToken() == JsonToken.START_ARRAY, model, where, "an array of integers");
    List<Long> dimensions = new ArrayList<>();
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      expect(parser.currentToken() == JsonToken.VALUE_NUMBER_INT
          && parser.getNumberType() != JsonParser.NumberType.BIG_INTEGER
          && dimensions.size() < MAX_NESTING, model, where, "an array of integers");
      dimensions.add(parser.getLongValue());
    }
    return dimensions.stream().mapToLong(Long::longValue).toArray();
  }

  private static List<String> outputs(JsonParser parser, String model) throws IOException {
    expect(parser.currentToken() == JsonToken.START_ARRAY, model, "'outputs'", "an array");
    List<String> names = new ArrayList<>();
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      String where = "outputs[" + names.size() + "]";
      expect(parser.currentToken() == JsonToken.START_OBJECT, model, where, "an object");
      String name = null;
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        parser.nextToken();
        if (field.equals("name")) {
          name = text(parser, model, where + ".name");
        } else {
          parser.skipChildren(); // parameters (binary_data: answers are JSON)
        }
      }
      expect(name != null, model, where, "a 'name'");
      names.add(name);
    }
    return names;
  }

  /**
   * The request {@link OipService#infer} takes: {@code header}'s inputs with their data as
   * typed contents, read from {@code body} where the header found them.
   */
  public static ModelInferRequest request(JsonFactory json, byte[] body, Header header,
      String model, String version) {
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder()
        .setModelName(model).setModelVersion(version).setId(header.id());
    for (Input input : header.inputs()) {
      ModelInferRequest.InferInputTensor.Builder tensor = request.addInputsBuilder()
          .setName(input.name()).setDatatype(input.datatype().name());
      for (long dimension : input.shape()) {
        tensor.addShape(dimension);
      }
      try (JsonParser parser = json.createParser(body, (int) input.dataAt(),
          body.length - (int) input.dataAt())) {
        parser.nextToken();
        new Values(model, input, tensor.getContentsBuilder()).array(parser);
      } catch (JsonProcessingException e) {
        throw notJson(model, e);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    header.outputs().forEach(name -> request.addOutputs(
        ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(name)));
    return request.build();
  }

  /** One input's data (flat or nested arrays, flattened row-major) into typed contents. */
  private static final class Values {
    private final String model;
    private final Input input;
    private final InferTensorContents.Builder contents;
    private long count;

    Values(String model, Input input, InferTensorContents.Builder contents) {
      this.model = model;
      this.input = input;
      this.contents = contents;
    }

    /** At a START_ARRAY; nesting is bounded by the factory's constraints. */
    void array(JsonParser parser) throws IOException {
      while (parser.nextToken() != JsonToken.END_ARRAY) {
        if (parser.currentToken() == JsonToken.START_ARRAY) {
          array(parser);
          continue;
        }
        if (count == input.elements()) {
          throw invalid("data holds more than the " + input.elements() + " values of shape "
              + Tensor.shapeText(input.shape()));
        }
        add(parser);
        count++;
      }
    }

    private void add(JsonParser parser) throws IOException {
      switch (input.datatype()) {
        case BOOL -> contents.addBoolContents(bool(parser));
        case INT8 -> contents.addIntContents((int) integer(parser, -128, 127));
        case INT16 -> contents.addIntContents((int) integer(parser, -32768, 32767));
        case INT32 -> contents.addIntContents(
            (int) integer(parser, Integer.MIN_VALUE, Integer.MAX_VALUE));
        case INT64 -> contents.addInt64Contents(integer(parser, Long.MIN_VALUE, Long.MAX_VALUE));
        case UINT8 -> contents.addUintContents((int) integer(parser, 0, 255));
        case UINT16 -> contents.addUintContents((int) integer(parser, 0, 65535));
        case UINT32 -> contents.addUintContents((int) integer(parser, 0, 0xFFFF_FFFFL));
        case UINT64 -> contents.addUint64Contents(uint64(parser));
        case FP32 -> contents.addFp32Contents(fp32(parser));
        case FP64 -> contents.addFp64Contents(number(parser));
        case BYTES -> contents.addBytesContents(ByteString.copyFromUtf8(string(parser)));
      }
    }

    private String string(JsonParser parser) throws IOException {
      if (parser.currentToken() != JsonToken.VALUE_STRING) {
        throw unexpected(parser, "a string");
      }
      return parser.getText();
    }

    private boolean bool(JsonParser parser) {
      JsonToken token = parser.currentToken();
      if (token != JsonToken.VALUE_TRUE && token != JsonToken.VALUE_FALSE) {
        throw unexpected(parser, "true or false");
      }
      return token == JsonToken.VALUE_TRUE;
    }

    private long integer(JsonParser parser, long min, long max) throws IOException {
      if (parser.currentToken() != JsonToken.VALUE_NUMBER_INT
          || parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER
          || parser.getLongValue() < min || parser.getLongValue() > max) {
        throw unexpected(parser, "an integer from " + min + " to " + max);
      }
      return parser.getLongValue();
    }

    private long uint64(JsonParser parser) throws IOException {
      if (parser.currentToken() == JsonToken.VALUE_NUMBER_INT) {
        BigInteger value = parser.getBigIntegerValue();
        if (value.signum() >= 0 && value.bitLength() <= 64) {
          return value.longValue(); // V2's uint64 contents: the same 64 bits
        }
      }
      throw unexpected(parser, "an integer from 0 to 18446744073709551615");
    }

    private double number(JsonParser parser) throws IOException {
      if (!parser.currentToken().isNumeric()) {
        throw unexpected(parser, "a number");
      }
      return parser.getDoubleValue();
    }

    private float fp32(JsonParser parser) throws IOException {
      double value = number(parser);
      if (Math.abs(value) > Float.MAX_VALUE) {
        throw unexpected(parser, "a number within FP32's range");
      }
      return (float) value;
    }

    private GatewayException unexpected(JsonParser parser, String expected) {
      String value;
      try {
        value = parser.currentToken().isScalarValue() ? parser.getText()
            : parser.currentToken().asString();
      } catch (IOException e) {
        value = String.valueOf(parser.currentToken());
      }
      return invalid("data[" + count + "] is " + value + " (expected: " + expected + ")");
    }

    private GatewayException invalid(String what) {
      return V2Tensors.invalid("model '" + model + "': input '" + input.name() + "' ("
          + input.datatype() + "): " + what);
    }
  }

  // --- errors ------------------------------------------------------------------------------

  private static String text(JsonParser parser, String model, String where) throws IOException {
    expect(parser.currentToken() == JsonToken.VALUE_STRING, model, where, "a string");
    return parser.getText();
  }

  private static void expect(boolean holds, String model, String where, String expected) {
    if (!holds) {
      throw V2Tensors.invalid("model '" + model + "': " + where + " (expected: " + expected
          + ")");
    }
  }

  private static GatewayException notJson(String model, JsonProcessingException e) {
    return V2Tensors.invalid("model '" + model + "': the request body is not valid V2 JSON: "
        + e.getOriginalMessage());
  }
}
