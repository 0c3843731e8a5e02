package io.pyml.gateway.testing;

import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.pyml.proto.v1.GetMetadataRequest;
import io.pyml.proto.v1.GetValidationInputRequest;
import io.pyml.proto.v1.ModelMetadata;
import io.pyml.proto.v1.ModelRuntimeGrpc;
import io.pyml.proto.v1.Payload;
import io.pyml.proto.v1.PayloadKind;
import io.pyml.proto.v1.ValidationReport;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.arrow.vector.ipc.WriteChannel;
import org.apache.arrow.vector.ipc.message.MessageSerializer;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;

/** A stand-in for the Python runtime: ModelRuntime + health on a real Unix socket. */
public final class FakeRuntime implements AutoCloseable {
  public static final Metadata.Key<String> ERROR =
      Metadata.Key.of("pyml-error", Metadata.ASCII_STRING_MARSHALLER);
  public static final Metadata.Key<String> EXCEPTION_TYPE =
      Metadata.Key.of("pyml-exception-type", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> RUNTIME_VERSION =
      Metadata.Key.of("pyml-runtime-version", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<String> PROTOCOL =
      Metadata.Key.of("pyml-sidecar-protocol", Metadata.ASCII_STRING_MARSHALLER);

  private final String name;
  private final FakeModel model;
  private final EventLoopGroup loop =
      new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
  private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
  private final HealthStatusManager health = new HealthStatusManager();
  private final Server server;
  /** Every payload Predict received, byte for byte. */
  public final List<ByteString> received = new CopyOnWriteArrayList<>();
  /** Every GetMetadata request: what the gateway said it is. */
  public final List<GetMetadataRequest> metadataRequests = new CopyOnWriteArrayList<>();
  /** Signals each "hang" call's arrival; and each one's cancellation below. */
  public final CountDownLatch hangStarted = new CountDownLatch(1);
  public final CountDownLatch hangCancelled = new CountDownLatch(1);
  /** Signals the "hold" call's arrival; completing {@code release} answers it. */
  public final CountDownLatch holdStarted = new CountDownLatch(1);
  public final CompletableFuture<Void> release = new CompletableFuture<>();
  /** Health checks received (counted whether answered or not). */
  public final AtomicInteger healthChecks = new AtomicInteger();
  private volatile boolean frozen;

  public FakeRuntime(String name, FakeModel model, Path socket) {
    this.name = name;
    this.model = model;
    this.server = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
        .channelType(EpollServerDomainSocketChannel.class)
        .bossEventLoopGroup(loop)
        .workerEventLoopGroup(loop)
        .addService(new Service())
        .addService(health.getHealthService())
        .intercept(new Freezable())
        .build();
  }

  /**
   * From now on no call is answered, health checks included, as in a process that was stopped
   * (SIGSTOP) or wedged: each call waits for its caller's deadline. The process does not exit.
   */
  public void freeze() {
    frozen = true;
  }

  /** Counts health checks; holds every call once frozen. */
  private final class Freezable implements ServerInterceptor {
    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
        ServerCallHandler<Q, A> next) {
      if (call.getMethodDescriptor().getFullMethodName()
          .equals(HealthGrpc.getCheckMethod().getFullMethodName())) {
        healthChecks.incrementAndGet();
      }
      if (frozen) {
        return new ServerCall.Listener<>() {}; // never read, never answered
      }
      return next.startCall(call, headers);
    }
  }

  public FakeRuntime start() throws IOException {
    health.setStatus("", ServingStatus.NOT_SERVING); // "loading the model"
    server.start();
    timer.schedule(() -> health.setStatus("", ServingStatus.SERVING),
        model.loadTime().toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** Stops at once, as a killed process would: open calls and connections are cut. */
  @Override
  public void close() {
    server.shutdownNow();
    timer.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  static ByteString reversed(ByteString bytes) {
    byte[] in = bytes.toByteArray();
    byte[] out = new byte[in.length];
    for (int i = 0; i < in.length; i++) {
      out[i] = in[in.length - 1 - i];
    }
    return ByteString.copyFrom(out);
  }

  private PayloadKind wireKind() {
    return switch (model.kind()) {
      case DATAFRAME -> PayloadKind.PAYLOAD_KIND_DATAFRAME;
      case TENSORS -> PayloadKind.PAYLOAD_KIND_TENSORS;
      case UNSPECIFIED -> PayloadKind.PAYLOAD_KIND_UNSPECIFIED;
    };
  }

  /** A DataFrame fake's input schema: one FP64 column "x" (an Arrow IPC schema message). */
  static final ByteString INPUT_SCHEMA = schemaMessage();

  private static ByteString schemaMessage() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      MessageSerializer.serialize(new WriteChannel(Channels.newChannel(out)),
          new Schema(List.of(Field.nullable("x",
              new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE)))));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return ByteString.copyFrom(out.toByteArray());
  }

  private final class Service extends ModelRuntimeGrpc.ModelRuntimeImplBase {
    @Override
    public void predict(Payload request, StreamObserver<Payload> response) {
      received.add(request.getArrowIpc());
      String text = request.getArrowIpc().toStringUtf8();
      if (text.equals(FakeModel.HANG)
          || model.hangs() && !text.equals(FakeModel.VALIDATION_INPUT)) {
        ((ServerCallStreamObserver<Payload>) response).setOnCancelHandler(hangCancelled::countDown);
        hangStarted.countDown();
        return; // never answers
      }
      if (text.equals(FakeModel.HOLD)) {
        holdStarted.countDown();
        release.thenRun(() -> {
          response.onNext(Payload.newBuilder().setKind(request.getKind())
              .setArrowIpc(reversed(request.getArrowIpc())).build());
          response.onCompleted();
        });
        return;
      }
      if (text.equals(FakeModel.BOOM)) {
        Metadata trailers = new Metadata();
        trailers.put(ERROR, "MODEL_ERROR");
        trailers.put(EXCEPTION_TYPE, "ValueError");
        response.onError(Status.INTERNAL.withDescription("model '" + name
            + "' raised ValueError: boom").asRuntimeException(trailers));
        return;
      }
      if (text.equals(FakeModel.BAD_COLUMN)) {
        Metadata trailers = new Metadata();
        trailers.put(ERROR, "INVALID_INPUT");
        response.onError(Status.INVALID_ARGUMENT.withDescription(
            "column 'age': int64 (expected: float64)").asRuntimeException(trailers));
        return;
      }
      response.onNext(Payload.newBuilder().setKind(request.getKind())
          .setArrowIpc(reversed(request.getArrowIpc())).build());
      response.onCompleted();
    }

    @Override
    public void getMetadata(GetMetadataRequest request, StreamObserver<ModelMetadata> response) {
      metadataRequests.add(request);
      if (model.protocol() != 0 && request.getGatewayProtocol() != model.protocol()) {
        Metadata trailers = new Metadata(); // as pyml_runtime.protocol refuses
        trailers.put(ERROR, "PROTOCOL_MISMATCH");
        trailers.put(RUNTIME_VERSION, model.runtimeVersion());
        trailers.put(PROTOCOL, String.valueOf(model.protocol()));
        response.onError(Status.FAILED_PRECONDITION.withDescription("model '" + name
            + "': this runtime speaks sidecar protocol " + model.protocol())
            .asRuntimeException(trailers));
        return;
      }
      ModelMetadata.Builder metadata = ModelMetadata.newBuilder().setName(name)
          .setKind(wireKind()).setModelClass("model.Fake")
          .setRuntimeVersion(model.runtimeVersion()).setSidecarProtocol(model.protocol());
      if (model.kind() == io.pyml.gateway.core.PayloadKind.DATAFRAME) {
        metadata.setInputSchema(INPUT_SCHEMA);
      }
      response.onNext(metadata.build());
      response.onCompleted();
    }

    @Override
    public void getValidationInput(GetValidationInputRequest request,
        StreamObserver<Payload> response) {
      response.onNext(Payload.newBuilder().setKind(wireKind())
          .setArrowIpc(ByteString.copyFromUtf8(FakeModel.VALIDATION_INPUT)).build());
      response.onCompleted();
    }

    @Override
    public void checkValidationOutput(Payload output, StreamObserver<ValidationReport> response) {
      boolean matches = output.getArrowIpc()
          .equals(reversed(ByteString.copyFromUtf8(FakeModel.VALIDATION_INPUT)));
      boolean passed = matches && model.passValidation();
      response.onNext(ValidationReport.newBuilder().setPassed(passed).setRows(1)
          .setDiff(passed ? "" : FakeModel.VALIDATION_DIFF).build());
      response.onCompleted();
    }
  }
}
