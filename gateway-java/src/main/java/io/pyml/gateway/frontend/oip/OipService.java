package io.pyml.gateway.frontend.oip;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.gateway.dispatch.DataPlane;
import io.pyml.gateway.dispatch.DataPlane.ServedModel;
import io.pyml.gateway.dispatch.PredictCall;
import io.pyml.gateway.dispatch.Protocol;
import io.pyml.gateway.frontend.transport.CallerCredentials;
import io.pyml.gateway.identity.Credentials;
import io.pyml.gateway.frontend.grpc.GrpcReplies;
import io.pyml.gateway.sidecar.RuntimeMetadata;
import io.pyml.oip.v2.GRPCInferenceServiceGrpc;
import io.pyml.oip.v2.ModelConfig;
import io.pyml.oip.v2.ModelConfigRequest;
import io.pyml.oip.v2.ModelConfigResponse;
import io.pyml.oip.v2.ModelInput;
import io.pyml.oip.v2.ModelOutput;
import io.pyml.oip.v2.ModelInferRequest;
import io.pyml.oip.v2.ModelInferResponse;
import io.pyml.oip.v2.ModelMetadataRequest;
import io.pyml.oip.v2.ModelMetadataResponse;
import io.pyml.oip.v2.ModelReadyRequest;
import io.pyml.oip.v2.ModelReadyResponse;
import io.pyml.oip.v2.ServerLiveRequest;
import io.pyml.oip.v2.ServerLiveResponse;
import io.pyml.oip.v2.ServerMetadataRequest;
import io.pyml.oip.v2.ServerMetadataResponse;
import io.pyml.oip.v2.ServerReadyRequest;
import io.pyml.oip.v2.ServerReadyResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.arrow.memory.BufferAllocator;

/**
 * The Open Inference Protocol ("V2") over gRPC: V2 tensors become the model's Arrow payload,
 * which goes through the same {@link DataPlane} as every other protocol; the answer comes back
 * as V2 tensors. OIP is gRPC, so it answers as the gRPC front ends do ({@link GrpcReplies}).
 */
public final class OipService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  /** What V2's server metadata says on both bindings. */
  public static final String SERVER_NAME = "pyml-gateway";
  public static final String SERVER_VERSION = "0.1.0";

  private final DataPlane plane;
  private final BufferAllocator allocator;
  private final BooleanSupplier serverReady;
  /** Per model name: the tensors its runtime metadata describes, read once per metadata. */
  private final Map<String, Schemas> described = new ConcurrentHashMap<>();

  /** @param serverReady the gateway's readiness (every deployed model READY; see /readyz) */
  public OipService(DataPlane plane, BufferAllocator allocator, BooleanSupplier serverReady) {
    this.plane = plane;
    this.allocator = allocator;
    this.serverReady = serverReady;
  }

  /** ServerReady's answer, for the REST binding too. */
  public boolean serverReady() {
    return serverReady.getAsBoolean();
  }

  @Override
  public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> answer) {
    GrpcReplies.reply(answer, () -> ServerLiveResponse.newBuilder().setLive(true).build());
  }

  @Override
  public void serverReady(ServerReadyRequest request,
      StreamObserver<ServerReadyResponse> answer) {
    GrpcReplies.reply(answer, () -> ServerReadyResponse.newBuilder().setReady(serverReady())
        .build());
  }

  @Override
  public void serverMetadata(ServerMetadataRequest request,
      StreamObserver<ServerMetadataResponse> answer) {
    GrpcReplies.reply(answer, () -> ServerMetadataResponse.newBuilder().setName(SERVER_NAME)
        .setVersion(SERVER_VERSION).build());
  }

  @Override
  public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> answer) {
    GrpcReplies.reply(answer, () -> ModelReadyResponse.newBuilder()
        .setReady(plane.ready(CallerCredentials.current(), request.getName(),
            version(request.getName(), request.getVersion())))
        .build());
  }

  @Override
  public void modelMetadata(ModelMetadataRequest request,
      StreamObserver<ModelMetadataResponse> answer) {
    GrpcReplies.reply(answer, () -> metadata(CallerCredentials.current(), request.getName(),
        request.getVersion()));
  }

  /** The model's V2 metadata; the REST binding (frontend/http) answers with it too. */
  public ModelMetadataResponse metadata(Credentials credentials, String name, String version) {
    ServedModel model = served(credentials, name, version);
    Schemas schemas = schemas(model);
    return ModelMetadataResponse.newBuilder()
        .setName(model.name())
        .addVersions(Long.toString(model.version()))
        .setPlatform(platform(model))
        .addAllInputs(schemas.inputs().stream().map(V2Tensors::toV2).toList())
        .addAllOutputs(schemas.outputs().stream().map(V2Tensors::toV2).toList())
        .build();
  }

  /** The model serving now under {@code name} (and V2 {@code version}); else the plane's error. */
  public ServedModel served(Credentials credentials, String name, String version) {
    return plane.served(credentials, name, version(name, version));
  }

  /** Triton's ModelConfig extension (see {@link TritonExtension}): what perf_analyzer asks. */
  void modelConfig(ModelConfigRequest request, StreamObserver<ModelConfigResponse> answer) {
    GrpcReplies.reply(answer, () -> {
      ServedModel model = plane.served(CallerCredentials.current(), request.getName(),
          version(request.getName(), request.getVersion()));
      Schemas schemas = schemas(model);
      ModelConfig.Builder config = ModelConfig.newBuilder()
          .setName(model.name())
          .setPlatform(platform(model))
          .setBackend("pyml")
          .setMaxBatchSize(0);
      schemas.inputs().forEach(spec -> config.addInput(ModelInput.newBuilder()
          .setName(spec.name()).setDataType(TritonExtension.dataType(spec.datatype()))
          .addAllDims(spec.shape())));
      schemas.outputs().forEach(spec -> config.addOutput(ModelOutput.newBuilder()
          .setName(spec.name()).setDataType(TritonExtension.dataType(spec.datatype()))
          .addAllDims(spec.shape())));
      return ModelConfigResponse.newBuilder().setConfig(config).build();
    });
  }

  private static String platform(ServedModel model) {
    return "pyml_" + model.kind().name().toLowerCase(java.util.Locale.ROOT);
  }

  @Override
  public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> answer) {
    Optional<Duration> timeout = Optional.ofNullable(Context.current().getDeadline())
        .map(d -> Duration.ofNanos(d.timeRemaining(TimeUnit.NANOSECONDS)));
    GrpcReplies.answer(answer, () -> infer(request, timeout, CallerCredentials.current(),
        Protocol.OIP), Function.identity());
  }

  /**
   * The model is resolved once, and its tensors encoded for the model that serves now (its
   * kind and schema, one snapshot). A swap in between routes the call to the successor, which
   * takes it if it is of the same kind and refuses it (INVALID_INPUT) otherwise, as it would
   * a native call; the runtime checks the columns. The REST binding (frontend/http) converts
   * its JSON to the same request and calls this too: one conversion for both.
   *
   * @param clientTimeout the time the client still allows; empty when it set no deadline
   * @param credentials who calls, as the front end read it
   * @param protocol OIP, or V2 REST when the REST binding calls (for the access log)
   * @throws GatewayException what is wrong before the model is called (unknown model, bad
   *     tensors); the future fails with what goes wrong after
   */
  public CompletableFuture<ModelInferResponse> infer(ModelInferRequest request,
      Optional<Duration> clientTimeout, Credentials credentials, Protocol protocol) {
    Set<String> requested = new HashSet<>();
    request.getOutputsList().forEach(o -> requested.add(o.getName()));
    PredictCall call;
    Schemas schemas;
    try {
      ServedModel model = served(credentials, request.getModelName(), request.getModelVersion());
      schemas = schemas(model);
      call = call(model, schemas, request, clientTimeout, credentials, protocol);
    } catch (GatewayException e) {
      // In the access log as the calls the data plane answers are.
      throw plane.refused(new PredictCall(request.getModelName(),
          versionOrEmpty(request.getModelName(), request.getModelVersion()), null,
          request.getId(), clientTimeout, credentials, protocol), e);
    }
    return plane.predict(call).thenApply(result -> {
          ModelInferResponse.Builder response = ModelInferResponse.newBuilder()
              .setModelName(result.modelName())
              .setModelVersion(Long.toString(result.modelVersion()))
              .setId(request.getId());
          V2Tensors.outputs(outputs(result.modelName(), schemas, result.payload()), requested,
              response);
          return response.build();
        });
  }

  /** The request as the data plane takes it, its tensors encoded for the model now served. */
  private PredictCall call(ServedModel model, Schemas schemas, ModelInferRequest request,
      Optional<Duration> clientTimeout, Credentials credentials, Protocol protocol) {
    List<Tensor> inputs = V2Tensors.inputs(request);
    schemas.check().check(model.name(), model.kind(), inputs);
    ByteString arrow = schemas.columns() != null ? schemas.columns().encode(inputs)
        : UnsafeByteOperations.unsafeWrap(ArrowTensors.encode(allocator, inputs));
    Payload payload = new Payload(model.kind(), arrow);
    return new PredictCall(model.name(), version(model.name(), request.getModelVersion()),
        payload, request.getId(), clientTimeout, credentials, protocol);
  }

  /**
   * The answer's tensors, its messages checked first (the runtime runs model code): a
   * DataFrame's usual answer read directly, any other by Arrow's reader.
   */
  private List<Tensor> outputs(String model, Schemas schemas, Payload answer) {
    List<ArrowFrames.Frame> frames = ArrowFrames.of(answer.arrowIpc().asReadOnlyByteBuffer(),
        "model '" + model + "': its runtime's answer");
    Optional<List<Tensor>> direct = answer.kind() == PayloadKind.DATAFRAME
        && schemas.answers() != null ? schemas.answers().read(answer.arrowIpc(), frames)
        : Optional.empty();
    return direct.orElseGet(() -> ArrowTensors.decode(allocator, answer.kind(),
        answer.arrowIpc()));
  }

  private static OptionalLong versionOrEmpty(String model, String text) {
    try {
      return version(model, text);
    } catch (GatewayException e) {
      return OptionalLong.empty();
    }
  }

  /**
   * A model's tensors, from one runtime metadata; {@code columns} and {@code answers}: how a
   * DataFrame model's inputs are encoded and its answers read (null for a tensors model).
   */
  private record Schemas(RuntimeMetadata metadata, List<TensorSpec> inputs,
      List<TensorSpec> outputs, InputCheck check, ColumnsEncoder columns,
      AnswerColumns answers) {}

  /** The model's tensors; read again only when its runtime metadata changes (a swap). */
  private Schemas schemas(ServedModel model) {
    RuntimeMetadata metadata = model.metadata();
    Schemas known = described.get(model.name());
    if (known != null && known.metadata() == metadata) {
      return known;
    }
    PayloadKind kind = model.kind();
    List<TensorSpec> inputs = ArrowTensors.specs(kind, metadata.inputSchema().toByteArray());
    Schemas schemas = new Schemas(metadata, inputs,
        ArrowTensors.specs(kind, metadata.outputSchema().toByteArray()), new InputCheck(inputs),
        kind == PayloadKind.DATAFRAME
            ? new ColumnsEncoder(inputs, metadata.inputSchema().toByteArray()) : null,
        kind == PayloadKind.DATAFRAME ? new AnswerColumns() : null);
    described.put(model.name(), schemas);
    return schemas;
  }

  /** V2 versions are strings: empty for the live version, else a version number. */
  private static OptionalLong version(String model, String text) {
    if (text.isEmpty()) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(text));
    } catch (NumberFormatException e) {
      throw V2Tensors.invalid("model '" + model + "': version '" + text
          + "' (expected: a version number, or empty for the live version)");
    }
  }

  /**
   * Names of the inputs against the model's, each once; a DataFrame model's inputs 1-D, of one
   * row count. A tensors model's datatypes must be its own; a DataFrame model's types are the
   * runtime's to judge, by its one conversion rule and with its one message (a client may send
   * INT32 for an INT64 column, or ISO-8601 text for a timestamp). A tensors model's shapes are
   * the runtime's to judge too. Made once per model's inputs.
   */
  static final class InputCheck {
    private final Map<String, TensorSpec> byName;

    InputCheck(List<TensorSpec> expected) {
      byName = expected.stream()
          .collect(Collectors.toMap(TensorSpec::name, Function.identity()));
    }

    static void against(String model, PayloadKind kind, List<TensorSpec> expected,
        List<Tensor> inputs) {
      new InputCheck(expected).check(model, kind, inputs);
    }

    void check(String model, PayloadKind kind, List<Tensor> inputs) {
      Set<String> seen = new HashSet<>();
      long rows = -1;
      for (Tensor input : inputs) {
        TensorSpec spec = byName.get(input.name());
        if (spec == null) {
          throw V2Tensors.invalid("model '" + model + "': input '" + input.name()
              + "' is not one of its inputs (expected: " + byName.keySet().stream().sorted()
              .toList() + ")");
        }
        if (!seen.add(input.name())) {
          throw V2Tensors.invalid("model '" + model + "': input '" + input.name()
              + "' is given twice");
        }
        if (kind == PayloadKind.TENSORS && spec.datatype() != input.datatype()) {
          throw V2Tensors.invalid("model '" + model + "': input '" + input.name() + "': "
              + input.datatype() + " (expected: " + spec.datatype() + ")");
        }
        if (kind == PayloadKind.DATAFRAME) {
          if (input.shape().length != 1) {
            throw V2Tensors.invalid("model '" + model + "': input '" + input.name()
                + "': shape " + Tensor.shapeText(input.shape())
                + " (expected: [rows], one 1-D tensor per column)");
          }
          if (rows >= 0 && input.shape()[0] != rows) {
            throw V2Tensors.invalid("model '" + model + "': input '" + input.name() + "' has "
                + input.shape()[0] + " rows (expected: " + rows + ", as the inputs before it)");
          }
          rows = input.shape()[0];
        }
      }
      if (seen.size() < byName.size()) { // each seen name is one of them, once
        List<String> missing = byName.keySet().stream().filter(n -> !seen.contains(n)).sorted()
            .toList();
        throw V2Tensors.invalid("model '" + model + "': missing inputs " + missing);
      }
    }
  }
}
