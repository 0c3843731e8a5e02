package io.pyml.gateway.sidecar;

import com.google.protobuf.MessageLite;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.GatewayVersion;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.SingleCopyMarshaller;
import io.pyml.proto.v1.GetMetadataRequest;
import io.pyml.proto.v1.GetValidationInputRequest;
import io.pyml.proto.v1.ModelRuntimeGrpc;
import io.pyml.proto.v1.PredictBatchRequest;
import io.pyml.proto.v1.PredictBatchResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The gateway's client of one model runtime: a channel to each of its runtime workers (one
 * Unix socket each, {@link RuntimeWorkers}). Each call goes to the worker with the fewest calls
 * in flight ({@link LeastBusy}). Every call carries a deadline; failures arrive as
 * {@link io.pyml.gateway.core.GatewayException}s naming the model.
 */
public final class SidecarClient implements AutoCloseable {
  /**
   * Predict and PredictBatch with their answers parsed with one copy of their Arrow bytes
   * (grpc-java's marshaller copies answers over 4 MiB twice). Their requests are written by
   * grpc-java straight from the payload's ByteString into the transport's buffers.
   */
  static final MethodDescriptor<io.pyml.proto.v1.Payload, io.pyml.proto.v1.Payload> PREDICT =
      SingleCopyMarshaller.forResponses(ModelRuntimeGrpc.getPredictMethod(),
          io.pyml.proto.v1.Payload.getDefaultInstance());
  static final MethodDescriptor<PredictBatchRequest, PredictBatchResponse> PREDICT_BATCH =
      SingleCopyMarshaller.forResponses(ModelRuntimeGrpc.getPredictBatchMethod(),
          PredictBatchResponse.getDefaultInstance());

  /** What this gateway is, sent with every GetMetadata: a runtime may refuse it. */
  private static final GetMetadataRequest GATEWAY_METADATA_REQUEST = GetMetadataRequest
      .newBuilder().setGatewayProtocol(SidecarProtocol.VERSION)
      .setGatewayVersion(GatewayVersion.current()).build();

  /** Answers up to this size go on from the runtime channel's event loop; larger, a pool's. */
  static final int INLINE_ANSWER_BYTES = 1 << 20;

  /**
   * Where a call's future completes when not on the runtime channel's event loop, which every
   * runtime shares (SidecarTransport). A small answer completes on the loop (no hand-over per
   * call): what follows, admission and queueing the client's write, is memory and little CPU.
   * A failure may go on to ask Docker why the runtime failed (Replica), and a large answer to
   * long conversions (OIP's tensors, a V2 REST body): neither may hold up the others' answers.
   */
  private static final Executor OFF_LOOP = Executors.newCachedThreadPool(
      new DefaultThreadFactory("pyml-sidecar-answer", true));

  private final String model;
  private final List<Worker> workers;
  private final LeastBusy choice = new LeastBusy();

  /** One runtime worker: its channel, its calls in flight, when it last ran the model. */
  private static final class Worker {
    final int index;
    final ManagedChannel channel;
    final ModelRuntimeGrpc.ModelRuntimeStub runtime;
    final ModelRuntimeGrpc.ModelRuntimeBlockingStub blockingRuntime;
    final HealthGrpc.HealthBlockingStub health;
    final AtomicInteger calls = new AtomicInteger();
    volatile long lastAnswerNanos = System.nanoTime();
    volatile boolean stuck;

    Worker(int index, ManagedChannel channel) {
      this.index = index;
      this.channel = channel;
      this.runtime = ModelRuntimeGrpc.newStub(channel);
      this.blockingRuntime = ModelRuntimeGrpc.newBlockingStub(channel);
      this.health = HealthGrpc.newBlockingStub(channel);
    }

    /** The call sent at {@code sentNanos} ended so; a deadline with no answer since: stuck. */
    void ended(Throwable error, long sentNanos) {
      calls.decrementAndGet();
      boolean modelRan = error == null
          || error instanceof GatewayException e && e.kind() == ErrorKind.MODEL_ERROR;
      if (modelRan) {
        lastAnswerNanos = System.nanoTime(); // an answer or the model's own error: progress
      } else if (error instanceof GatewayException e && e.kind() == ErrorKind.DEADLINE_EXCEEDED
          && lastAnswerNanos - sentNanos <= 0) {
        stuck = true;
      }
    }
  }

  /** A client of a runtime with one worker. */
  public SidecarClient(String model, ManagedChannel channel) {
    this(model, List.of(channel));
  }

  /** {@code channels}: one per runtime worker, worker 0's first. */
  public SidecarClient(String model, List<ManagedChannel> channels) {
    if (channels.isEmpty()) {
      throw new IllegalArgumentException("a runtime has at least one worker");
    }
    this.model = model;
    List<Worker> list = new ArrayList<>(channels.size());
    for (int i = 0; i < channels.size(); i++) {
      list.add(new Worker(i, channels.get(i)));
    }
    this.workers = List.copyOf(list);
  }

  /** How many runtime workers this client spreads calls over. */
  public int workers() {
    return workers.size();
  }

  /**
   * Forwards the payload as is; completes with the runtime's answer or a GatewayException.
   * The call runs in a context of its own, not the client's: a client that gives up or goes
   * away does not end it, since model code cannot be interrupted and the runtime stays busy
   * with it anyway. Its own {@code timeout} ends it. Idle workers take the calls in turns.
   */
  public CompletableFuture<Payload> predict(Payload payload, Duration timeout) {
    return unary(timeout, PREDICT, RuntimeProtos.toProto(payload))
        .thenApply(RuntimeProtos::fromProto);
  }

  /**
   * Several calls' payloads as one PredictBatch (adaptive batching); completes with one outcome
   * per payload, in order, or exceptionally when the batch as a whole failed. Runs like
   * {@link #predict}: in a context of its own, ended only by {@code timeout}.
   */
  public CompletableFuture<List<BatchOutcome>> predictBatch(List<Payload> payloads,
      Duration timeout) {
    return unary(timeout, PREDICT_BATCH, BatchProtos.toProto(payloads)).thenApply(response -> {
          try {
            return BatchProtos.fromProto(model, response, payloads.size(), timeout);
          } catch (IllegalStateException e) {
            throw new GatewayException(ErrorKind.INTERNAL, e.getMessage(), e);
          }
        });
  }

  /**
   * The first worker that is stuck in model code: a call to it outlived its deadline while it
   * ran the model for no call since that call was sent. Empty while every worker progresses.
   */
  public Optional<Integer> stuckWorker() {
    return workers.stream().filter(w -> w.stuck).map(w -> w.index).findFirst();
  }

  /** SERVING only when every worker is; {@code timeout} is for all of them together. */
  public RuntimeHealth health(Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    for (Worker worker : workers) {
      Duration left = Duration.ofNanos(Math.max(1, end - System.nanoTime()));
      HealthCheckResponse response = call(left, () -> deadline(worker.health, left)
          .check(HealthCheckRequest.newBuilder().setService("").build()));
      if (response.getStatus() != HealthCheckResponse.ServingStatus.SERVING) {
        return RuntimeHealth.NOT_SERVING;
      }
    }
    return RuntimeHealth.SERVING;
  }

  /**
   * The runtime's answer to GetMetadata, which says which sidecar protocol (and PyML) this
   * gateway speaks; {@link SidecarProtocol#metadata} checks that the two can talk.
   */
  public RuntimeMetadata metadata(Duration timeout) {
    return RuntimeProtos.fromProto(call(timeout, () -> deadline(first().blockingRuntime, timeout)
        .getMetadata(GATEWAY_METADATA_REQUEST)));
  }

  public Payload validationInput(Duration timeout) {
    return RuntimeProtos.fromProto(call(timeout, () ->
        deadline(first().blockingRuntime, timeout)
            .getValidationInput(GetValidationInputRequest.getDefaultInstance())));
  }

  public ValidationResult checkValidationOutput(Payload output, Duration timeout) {
    return RuntimeProtos.fromProto(call(timeout, () -> deadline(first().blockingRuntime, timeout)
        .checkValidationOutput(RuntimeProtos.toProto(output))));
  }

  /** Lets in-flight calls finish, refuses new ones (an orderly switch to another runtime). */
  @Override
  public void close() {
    workers.forEach(w -> w.channel.shutdown());
  }

  /** Fails in-flight calls at once with UNAVAILABLE (the runtime is gone: never wait). */
  public void closeNow() {
    workers.forEach(w -> w.channel.shutdownNow());
  }

  public boolean awaitClosed(Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    for (Worker worker : workers) {
      if (!worker.channel.awaitTermination(end - System.nanoTime(), TimeUnit.NANOSECONDS)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Sends one unary call of the runtime's service to the least busy worker (each call of the
   * service is one line over this): counts it in flight there until it ends, and notes
   * whether that worker still runs the model.
   */
  private <Q, T> CompletableFuture<T> unary(Duration timeout, MethodDescriptor<Q, T> method,
      Q request) {
    Worker worker = workers.get(choice.choose(workers.size(), i -> workers.get(i).calls.get()));
    worker.calls.incrementAndGet();
    long sent = System.nanoTime();
    CompletableFuture<T> result = new CompletableFuture<>();
    ModelRuntimeGrpc.ModelRuntimeStub stub = deadline(worker.runtime, timeout);
    Context.current().fork().run(() -> ClientCalls.asyncUnaryCall(
        stub.getChannel().newCall(method, stub.getCallOptions()), request,
        new StreamObserver<T>() {
          @Override
          public void onNext(T value) {
            worker.ended(null, sent);
            if (((MessageLite) value).getSerializedSize() <= INLINE_ANSWER_BYTES) {
              result.complete(value);
            } else {
              OFF_LOOP.execute(() -> result.complete(value));
            }
          }

          @Override
          public void onError(Throwable error) {
            GatewayException translated = SidecarErrors.translate(model, error, timeout);
            worker.ended(translated, sent);
            OFF_LOOP.execute(() -> result.completeExceptionally(translated));
          }

          @Override
          public void onCompleted() {
            // onNext already completed the result; a unary call has nothing more to say.
          }
        }));
    return result;
  }

  private Worker first() {
    return workers.get(0);
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
