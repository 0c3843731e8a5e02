package io.pyml.gateway.frontend.oip;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.oip.v2.InferTensorContents;
import io.pyml.oip.v2.ModelInferRequest;
import io.pyml.oip.v2.ModelInferResponse;
import io.pyml.oip.v2.ModelMetadataResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/** The only place V2's generated tensor classes meet {@link Tensor}s. */
final class V2Tensors {
  private V2Tensors() {}

  /**
   * The request's inputs, their sizes checked against their shapes; raw or typed contents.
   * Errors name the model the request names.
   */
  static List<Tensor> inputs(ModelInferRequest request) {
    String model = "model '" + request.getModelName() + "': ";
    int raw = request.getRawInputContentsCount();
    if (raw != 0 && raw != request.getInputsCount()) {
      throw invalid(model + "raw_input_contents has " + raw + " entries for "
          + request.getInputsCount() + " inputs (expected: one per input, in order)");
    }
    List<Tensor> tensors = new ArrayList<>();
    for (int i = 0; i < request.getInputsCount(); i++) {
      ModelInferRequest.InferInputTensor input = request.getInputs(i);
      String name = input.getName();
      long[] shape = new long[input.getShapeCount()];
      for (int d = 0; d < shape.length; d++) {
        shape[d] = input.getShape(d);
      }
      Datatype type;
      long elements;
      try {
        type = datatype(name, input.getDatatype());
        elements = elements(name, type, shape);
      } catch (GatewayException e) {
        throw invalid(model + e.getMessage());
      }
      // Written for an error (or a BYTES input, whose checks name it): a 1-row request of 30
      // number columns built 30 of them.
      Supplier<String> where = () -> model + "input '" + name + "'";
      ByteString data = raw != 0
          ? rawBytes(where, type, shape, elements, request.getRawInputContents(i))
          : typedBytes(where, type, shape, elements, input.getContents());
      tensors.add(new Tensor(name, type, shape, data));
    }
    return tensors;
  }

  /** The V2 datatype named {@code text}, or INVALID_INPUT naming the input. */
  static Datatype datatype(String input, String text) {
    return Datatype.of(text).orElseThrow(() -> invalid("input '" + input + "': datatype '"
        + text + "' (expected one of: " + List.of(Datatype.values()) + ")"));
  }

  /**
   * The elements of a tensor of {@code shape}, checked before any buffer is made: no negative
   * dimension, and its bytes fit in one array.
   */
  static long elements(String input, Datatype type, long[] shape) {
    try {
      for (long dimension : shape) {
        if (dimension < 0) {
          throw invalid("input '" + input + "': shape " + Tensor.shapeText(shape)
              + " has a negative dimension");
        }
      }
      long elements = Tensor.elements(shape);
      Math.toIntExact(Math.multiplyExact(elements, type.width));
      return elements;
    } catch (ArithmeticException e) {
      throw invalid("input '" + input + "': shape " + Tensor.shapeText(shape) + " is too large");
    }
  }

  private static ByteString rawBytes(Supplier<String> where, Datatype type, long[] shape,
      long elements, ByteString raw) {
    if (type == Datatype.BYTES) {
      return V2Bytes.checked(where.get() + " (BYTES)", elements, raw);
    }
    long expected = elements * type.width;
    if (raw.size() != expected) {
      throw invalid(where.get() + ": " + raw.size() + " bytes of raw contents for shape "
          + Tensor.shapeText(shape) + " of " + type + " (expected: " + expected + " bytes)");
    }
    return raw;
  }

  private static ByteString typedBytes(Supplier<String> where, Datatype type, long[] shape,
      long elements, InferTensorContents contents) {
    int count = switch (type) {
      case BOOL -> contents.getBoolContentsCount();
      case INT8, INT16, INT32 -> contents.getIntContentsCount();
      case INT64 -> contents.getInt64ContentsCount();
      case UINT8, UINT16, UINT32 -> contents.getUintContentsCount();
      case UINT64 -> contents.getUint64ContentsCount();
      case FP32 -> contents.getFp32ContentsCount();
      case FP64 -> contents.getFp64ContentsCount();
      case BYTES -> contents.getBytesContentsCount();
    };
    if (count != elements) {
      throw invalid(where.get() + ": " + count + " " + type + " values in contents for shape "
          + Tensor.shapeText(shape) + " (expected: " + elements + ")");
    }
    if (type == Datatype.BYTES) {
      return V2Bytes.of(where.get() + " (BYTES)", contents.getBytesContentsList());
    }
    ByteBuffer out = ByteBuffer.allocate(count * type.width).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < count; i++) {
      switch (type) {
        case BOOL -> out.put((byte) (contents.getBoolContents(i) ? 1 : 0));
        case INT8 -> out.put((byte) contents.getIntContents(i));
        case INT16 -> out.putShort((short) contents.getIntContents(i));
        case INT32 -> out.putInt(contents.getIntContents(i));
        case INT64 -> out.putLong(contents.getInt64Contents(i));
        case UINT8 -> out.put((byte) contents.getUintContents(i));
        case UINT16 -> out.putShort((short) contents.getUintContents(i));
        case UINT32 -> out.putInt(contents.getUintContents(i));
        case UINT64 -> out.putLong(contents.getUint64Contents(i));
        case FP32 -> out.putFloat(contents.getFp32Contents(i));
        case FP64 -> out.putDouble(contents.getFp64Contents(i));
        case BYTES -> throw new IllegalStateException("BYTES is not of fixed width");
      }
    }
    return UnsafeByteOperations.unsafeWrap(out.array());
  }

  /**
   * Outputs as raw little-endian contents (what Triton answers; BYTES length-prefixed); only
   * those asked for, if any.
   */
  static void outputs(List<Tensor> tensors, Set<String> requested,
      ModelInferResponse.Builder response) {
    for (Tensor tensor : tensors) {
      if (!requested.isEmpty() && !requested.contains(tensor.name())) {
        continue;
      }
      ModelInferResponse.InferOutputTensor.Builder output =
          ModelInferResponse.InferOutputTensor.newBuilder()
              .setName(tensor.name())
              .setDatatype(tensor.datatype().name());
      for (long dimension : tensor.shape()) {
        output.addShape(dimension);
      }
      response.addOutputs(output);
      response.addRawOutputContents(tensor.data());
    }
  }

  static ModelMetadataResponse.TensorMetadata toV2(TensorSpec spec) {
    return ModelMetadataResponse.TensorMetadata.newBuilder()
        .setName(spec.name())
        .setDatatype(spec.datatype().name())
        .addAllShape(spec.shape())
        .build();
  }

  static GatewayException invalid(String message) {
    return new GatewayException(ErrorKind.INVALID_INPUT, message);
  }
}
