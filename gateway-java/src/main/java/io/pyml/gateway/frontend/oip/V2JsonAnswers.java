package io.pyml.gateway.frontend.oip;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.pyml.gateway.core.JsonDocuments;
import io.pyml.oip.v2.ModelInferResponse;
import io.pyml.oip.v2.ModelMetadataResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The OIP gRPC binding's answers as KServe V2 JSON (the REST binding): an inference's outputs
 * and a model's metadata. Requests go the other way in {@link V2Json}.
 */
public final class V2JsonAnswers {
  private V2JsonAnswers() {}

  /** An inference answer as V2 JSON: each output's data a flat row-major array. */
  public static byte[] response(JsonFactory json, ModelInferResponse response) {
    return JsonDocuments.write(json, out -> {
      out.writeStartObject();
      out.writeStringField("model_name", response.getModelName());
      out.writeStringField("model_version", response.getModelVersion());
      if (!response.getId().isEmpty()) {
        out.writeStringField("id", response.getId());
      }
      out.writeArrayFieldStart("outputs");
      for (int i = 0; i < response.getOutputsCount(); i++) {
        ModelInferResponse.InferOutputTensor output = response.getOutputs(i);
        Datatype type = Datatype.of(output.getDatatype()).orElseThrow();
        out.writeStartObject();
        out.writeStringField("name", output.getName());
        out.writeStringField("datatype", type.name());
        writeShape(out, output.getShapeList());
        out.writeArrayFieldStart("data");
        ByteBuffer raw = response.getRawOutputContents(i).asReadOnlyByteBuffer()
            .order(ByteOrder.LITTLE_ENDIAN);
        while (raw.hasRemaining()) {
          writeValue(out, type, raw);
        }
        out.writeEndArray();
        out.writeEndObject();
      }
      out.writeEndArray();
      out.writeEndObject();
    });
  }

  /**
   * One little-endian value, as V2's raw contents hold it (BOOL: one byte; BYTES: its 4-byte
   * length, then its bytes, written as a string).
   */
  private static void writeValue(JsonGenerator out, Datatype type, ByteBuffer raw)
      throws IOException {
    switch (type) {
      case BOOL -> out.writeBoolean(raw.get() != 0);
      case INT8 -> out.writeNumber(raw.get());
      case INT16 -> out.writeNumber(raw.getShort());
      case INT32 -> out.writeNumber(raw.getInt());
      case INT64 -> out.writeNumber(raw.getLong());
      case UINT8 -> out.writeNumber(Byte.toUnsignedInt(raw.get()));
      case UINT16 -> out.writeNumber(Short.toUnsignedInt(raw.getShort()));
      case UINT32 -> out.writeNumber(Integer.toUnsignedLong(raw.getInt()));
      case UINT64 -> out.writeNumber(Long.toUnsignedString(raw.getLong()));
      case FP32 -> out.writeNumber(raw.getFloat());
      case FP64 -> out.writeNumber(raw.getDouble());
      case BYTES -> {
        byte[] text = new byte[raw.getInt()];
        raw.get(text);
        // Decoded (a malformed sequence becomes U+FFFD): the JSON written is always UTF-8.
        out.writeString(new String(text, StandardCharsets.UTF_8));
      }
    }
  }

  /** A model's V2 metadata as JSON (the REST binding's names; shapes as numbers, -1: any). */
  public static byte[] metadata(JsonFactory json, ModelMetadataResponse metadata) {
    return JsonDocuments.write(json, out -> {
      out.writeStartObject();
      out.writeStringField("name", metadata.getName());
      out.writeArrayFieldStart("versions");
      for (String version : metadata.getVersionsList()) {
        out.writeString(version);
      }
      out.writeEndArray();
      out.writeStringField("platform", metadata.getPlatform());
      writeTensors(out, "inputs", metadata.getInputsList());
      writeTensors(out, "outputs", metadata.getOutputsList());
      out.writeEndObject();
    });
  }

  private static void writeTensors(JsonGenerator out, String field,
      List<ModelMetadataResponse.TensorMetadata> tensors) throws IOException {
    out.writeArrayFieldStart(field);
    for (ModelMetadataResponse.TensorMetadata tensor : tensors) {
      out.writeStartObject();
      out.writeStringField("name", tensor.getName());
      out.writeStringField("datatype", tensor.getDatatype());
      writeShape(out, tensor.getShapeList());
      out.writeEndObject();
    }
    out.writeEndArray();
  }

  private static void writeShape(JsonGenerator out, List<Long> shape) throws IOException {
    out.writeArrayFieldStart("shape");
    for (long dimension : shape) {
      out.writeNumber(dimension);
    }
    out.writeEndArray();
  }
}
