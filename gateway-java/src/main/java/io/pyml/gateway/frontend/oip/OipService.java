package io.pyml.gateway.frontend.oip;

import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.stub.StreamObserver;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.gateway.deployment.Deployment;
import io.pyml.gateway.deployment.DeploymentManager;
import io.pyml.gateway.deployment.DeploymentState;
import io.pyml.gateway.dispatch.Dispatcher;
import io.pyml.gateway.dispatch.PredictCall;
import io.pyml.gateway.frontend.grpc.GrpcErrors;
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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.arrow.memory.BufferAllocator;

/**
 * The Open Inference Protocol ("V2") over gRPC: V2 tensors become the model's Arrow payload,
 * which goes through the same {@link Dispatcher} as every other protocol; the answer comes back
 * as V2 tensors. OIP is gRPC, so errors use the gRPC front end's one table ({@link GrpcErrors}).
 */
public final class OipService extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
  private final Dispatcher dispatcher;
  private final DeploymentManager deployments;
  private final BufferAllocator allocator;
  /** Per model name: the tensors its runtime metadata describes, read once per metadata. */
  private final Map<String, Schemas> described = new ConcurrentHashMap<>();

  public OipService(Dispatcher dispatcher, DeploymentManager deployments,
      BufferAllocator allocator) {
    this.dispatcher = dispatcher;
    this.deployments = deployments;
    this.allocator = allocator;
  }

  @Override
  public void serverLive(ServerLiveRequest request, StreamObserver<ServerLiveResponse> answer) {
    reply(answer, ServerLiveResponse.newBuilder().setLive(true).build());
  }

  @Override
  public void serverReady(ServerReadyRequest request,
      StreamObserver<ServerReadyResponse> answer) {
    reply(answer, ServerReadyResponse.newBuilder().setReady(true).build());
  }

  @Override
  public void serverMetadata(ServerMetadataRequest request,
      StreamObserver<ServerMetadataResponse> answer) {
    reply(answer, ServerMetadataResponse.newBuilder().setName("pyml-gateway")
        .setVersion("0.1.0").build());
  }

  @Override
  public void modelReady(ModelReadyRequest request, StreamObserver<ModelReadyResponse> answer) {
    boolean ready = deployments.route(request.getName())
        .filter(d -> d.state() == DeploymentState.READY)
        .filter(d -> matches(d, request.getVersion()))
        .isPresent();
    reply(answer, ModelReadyResponse.newBuilder().setReady(ready).build());
  }

  @Override
  public void modelMetadata(ModelMetadataRequest request,
      StreamObserver<ModelMetadataResponse> answer) {
    try {
      Deployment deployment = live(request.getName(), request.getVersion());
      Schemas schemas = schemas(deployment);
      reply(answer, ModelMetadataResponse.newBuilder()
          .setName(deployment.name())
          .addVersions(Long.toString(deployment.version()))
          .setPlatform(platform(deployment))
          .addAllInputs(schemas.inputs().stream().map(V2Tensors::toV2).toList())
          .addAllOutputs(schemas.outputs().stream().map(V2Tensors::toV2).toList())
          .build());
    } catch (RuntimeException e) {
      answer.onError(GrpcErrors.toStatus(e));
    }
  }

  /** Triton's ModelConfig extension (see {@link TritonExtension}): what perf_analyzer asks. */
  void modelConfig(ModelConfigRequest request, StreamObserver<ModelConfigResponse> answer) {
    try {
      Deployment deployment = live(request.getName(), request.getVersion());
      Schemas schemas = schemas(deployment);
      ModelConfig.Builder config = ModelConfig.newBuilder()
          .setName(deployment.name())
          .setPlatform(platform(deployment))
          .setBackend("pyml")
          .setMaxBatchSize(0);
      schemas.inputs().forEach(spec -> config.addInput(ModelInput.newBuilder()
          .setName(spec.name()).setDataType(TritonExtension.dataType(spec.datatype()))
          .addAllDims(spec.shape())));
      schemas.outputs().forEach(spec -> config.addOutput(ModelOutput.newBuilder()
          .setName(spec.name()).setDataType(TritonExtension.dataType(spec.datatype()))
          .addAllDims(spec.shape())));
      reply(answer, ModelConfigResponse.newBuilder().setConfig(config).build());
    } catch (RuntimeException e) {
      answer.onError(GrpcErrors.toStatus(e));
    }
  }

  private static String platform(Deployment deployment) {
    return "pyml_" + deployment.kind().name().toLowerCase(java.util.Locale.ROOT);
  }

  @Override
  public void modelInfer(ModelInferRequest request, StreamObserver<ModelInferResponse> answer) {
    PayloadKind kind;
    try {
      Deployment deployment = live(request.getModelName(), request.getModelVersion());
      kind = deployment.kind();
      List<Tensor> inputs = V2Tensors.inputs(request);
      Schemas schemas = schemas(deployment);
      schemas.check().check(deployment.name(), kind, inputs);
      byte[] arrow = schemas.columns() != null ? schemas.columns().encode(allocator, inputs)
          : ArrowTensors.encode(allocator, inputs);
      Payload payload = new Payload(kind, UnsafeByteOperations.unsafeWrap(arrow));
      Deadline deadline = Context.current().getDeadline();
      PredictCall call = new PredictCall(request.getModelName(), version(request.getModelVersion()),
          payload, request.getId(), Optional.ofNullable(deadline)
              .map(d -> Duration.ofNanos(d.timeRemaining(TimeUnit.NANOSECONDS))));
      Set<String> requested = new HashSet<>();
      request.getOutputsList().forEach(o -> requested.add(o.getName()));
      PayloadKind payloadKind = kind;
      dispatcher.predict(call).whenComplete((result, error) -> {
        if (error != null) {
          answer.onError(GrpcErrors.toStatus(error));
          return;
        }
        try {
          ModelInferResponse.Builder response = ModelInferResponse.newBuilder()
              .setModelName(result.modelName())
              .setModelVersion(Long.toString(result.modelVersion()))
              .setId(request.getId());
          V2Tensors.outputs(ArrowTensors.decode(allocator, payloadKind,
              result.payload().arrowIpc().toByteArray()), requested, response);
          reply(answer, response.build());
        } catch (RuntimeException e) {
          answer.onError(GrpcErrors.toStatus(e));
        }
      });
    } catch (RuntimeException e) {
      answer.onError(GrpcErrors.toStatus(e));
    }
  }

  /**
   * A model's tensors, from one runtime metadata; {@code columns}: how a DataFrame model's
   * inputs are encoded (null for a tensors model).
   */
  private record Schemas(RuntimeMetadata metadata, List<TensorSpec> inputs,
      List<TensorSpec> outputs, InputCheck check, ColumnsEncoder columns) {}

  /** The deployment's tensors; read again only when its runtime metadata changes (a swap). */
  private Schemas schemas(Deployment deployment) {
    RuntimeMetadata metadata = deployment.metadata().orElseThrow(() -> new GatewayException(
        ErrorKind.UNAVAILABLE, "model '" + deployment.name() + "' is not ready: "
            + deployment.state()));
    Schemas known = described.get(deployment.name());
    if (known != null && known.metadata() == metadata) {
      return known;
    }
    PayloadKind kind = deployment.kind();
    List<TensorSpec> inputs = ArrowTensors.specs(kind, metadata.inputSchema().toByteArray());
    Schemas schemas = new Schemas(metadata, inputs,
        ArrowTensors.specs(kind, metadata.outputSchema().toByteArray()), new InputCheck(inputs),
        kind == PayloadKind.DATAFRAME
            ? new ColumnsEncoder(inputs, metadata.inputSchema().toByteArray()) : null);
    described.put(deployment.name(), schemas);
    return schemas;
  }

  /** The live deployment; the dispatcher repeats these checks on the predict path itself. */
  private Deployment live(String name, String version) {
    Deployment deployment = deployments.route(name).orElseThrow(() ->
        new GatewayException(ErrorKind.NOT_FOUND, "model '" + name + "' is not deployed"));
    if (!matches(deployment, version)) {
      throw new GatewayException(ErrorKind.NOT_FOUND, "model '" + name + "' version " + version
          + " is not deployed (live version: " + deployment.version() + ")");
    }
    if (deployment.state() != DeploymentState.READY) {
      throw new GatewayException(ErrorKind.UNAVAILABLE, "model '" + name + "' is not ready: "
          + deployment.state());
    }
    return deployment;
  }

  private static boolean matches(Deployment deployment, String version) {
    return version.isEmpty() || version.equals(Long.toString(deployment.version()));
  }

  private static OptionalLong version(String text) {
    return text.isEmpty() ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(text));
  }

  private static <T> void reply(StreamObserver<T> answer, T value) {
    answer.onNext(value);
    answer.onCompleted();
  }

  /**
   * Names and datatypes of the inputs against the model's; shapes are the runtime's to judge.
   * Made once per model's inputs.
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
        if (spec.datatype() != input.datatype()) {
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
      List<String> missing = byName.keySet().stream().filter(n -> !seen.contains(n)).sorted()
          .toList();
      if (!missing.isEmpty()) {
        throw V2Tensors.invalid("model '" + model + "': missing inputs " + missing);
      }
    }
  }
}
