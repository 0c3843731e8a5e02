package io.pyml.gateway.sidecar;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;
import io.pyml.proto.v1.GetMetadataRequest;
import io.pyml.proto.v1.GetValidationInputRequest;
import io.pyml.proto.v1.ModelRuntimeGrpc;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The gateway's client of one model runtime, over its Unix socket. Every call carries a
 * deadline; failures arrive as {@link io.pyml.gateway.core.GatewayException}s naming the model.
 */
public final class SidecarClient implements AutoCloseable {
  private final String model;
  private final ManagedChannel channel;
  private final ModelRuntimeGrpc.ModelRuntimeStub runtime;
  private final ModelRuntimeGrpc.ModelRuntimeBlockingStub blockingRuntime;
  private final HealthGrpc.HealthBlockingStub health;

  public SidecarClient(String model, ManagedChannel channel) {
    this.model = model;
    this.channel = channel;
    this.runtime = ModelRuntimeGrpc.newStub(channel);
    this.blockingRuntime = ModelRuntimeGrpc.newBlockingStub(channel);
    this.health = HealthGrpc.newBlockingStub(channel);
  }

  /**
   * Forwards the payload as is; completes with the runtime's answer or a GatewayException.
   * The call runs in a context of its own, not the client's: a client that gives up or goes
   * away does not end it, since model code cannot be interrupted and the runtime stays busy
   * with it anyway. Its own {@code timeout} ends it.
   */
  public CompletableFuture<Payload> predict(Payload payload, Duration timeout) {
    CompletableFuture<Payload> result = new CompletableFuture<>();
    Context.current().fork().run(() -> runtime.withDeadlineAfter(timeout.toNanos(),
        TimeUnit.NANOSECONDS).predict(RuntimeProtos.toProto(payload), new StreamObserver<>() {
          @Override
          public void onNext(io.pyml.proto.v1.Payload value) {
            result.complete(RuntimeProtos.fromProto(value));
          }

          @Override
          public void onError(Throwable error) {
            result.completeExceptionally(SidecarErrors.translate(model, error, timeout));
          }

          @Override
          public void onCompleted() {
            // onNext already completed the result; a unary call has nothing more to say.
          }
        }));
    return result;
  }

  /**
   * Several calls' payloads as one PredictBatch (adaptive batching); completes with one outcome
   * per payload, in order, or exceptionally when the batch as a whole failed. Runs like
   * {@link #predict}: in a context of its own, ended only by {@code timeout}.
   */
  public CompletableFuture<List<BatchOutcome>> predictBatch(List<Payload> payloads,
      Duration timeout) {
    CompletableFuture<List<BatchOutcome>> result = new CompletableFuture<>();
    Context.current().fork().run(() -> runtime.withDeadlineAfter(timeout.toNanos(),
        TimeUnit.NANOSECONDS).predictBatch(BatchProtos.toProto(payloads), new StreamObserver<>() {
          @Override
          public void onNext(io.pyml.proto.v1.PredictBatchResponse value) {
            try {
              result.complete(BatchProtos.fromProto(model, value, payloads.size(), timeout));
            } catch (IllegalStateException e) {
              result.completeExceptionally(new GatewayException(ErrorKind.INTERNAL,
                  e.getMessage(), e));
            }
          }

          @Override
          public void onError(Throwable error) {
            result.completeExceptionally(SidecarErrors.translate(model, error, timeout));
          }

          @Override
          public void onCompleted() {
            // onNext already completed the result.
          }
        }));
    return result;
  }

  public RuntimeHealth health(Duration timeout) {
    HealthCheckResponse response = call(timeout, () ->
        deadline(health, timeout).check(HealthCheckRequest.newBuilder().setService("").build()));
    return response.getStatus() == HealthCheckResponse.ServingStatus.SERVING
        ? RuntimeHealth.SERVING : RuntimeHealth.NOT_SERVING;
  }

  public RuntimeMetadata metadata(Duration timeout) {
    return RuntimeProtos.fromProto(call(timeout, () ->
        deadline(blockingRuntime, timeout).getMetadata(GetMetadataRequest.getDefaultInstance())));
  }

  public Payload validationInput(Duration timeout) {
    return RuntimeProtos.fromProto(call(timeout, () ->
        deadline(blockingRuntime, timeout)
            .getValidationInput(GetValidationInputRequest.getDefaultInstance())));
  }

  public ValidationResult checkValidationOutput(Payload output, Duration timeout) {
    return RuntimeProtos.fromProto(call(timeout, () ->
        deadline(blockingRuntime, timeout).checkValidationOutput(RuntimeProtos.toProto(output))));
  }

  /** Lets in-flight calls finish, refuses new ones (an orderly switch to another runtime). */
  @Override
  public void close() {
    channel.shutdown();
  }

  /** Fails in-flight calls at once with UNAVAILABLE (the runtime is gone: never wait). */
  public void closeNow() {
    channel.shutdownNow();
  }

  public boolean awaitClosed(Duration timeout) throws InterruptedException {
    return channel.awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  private static <S extends io.grpc.stub.AbstractStub<S>> S deadline(S stub, Duration timeout) {
    return stub.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  private <T> T call(Duration timeout, Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (StatusRuntimeException e) {
      throw SidecarErrors.translate(model, e, timeout);
    }
  }
}
