package io.pyml.gateway.frontend.grpc;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * How every gRPC front end (client API, admin API, OIP) answers a unary call: the converted
 * value, or the error in the one gRPC table ({@link GrpcErrors}); never both, never neither,
 * whether the call, the data plane or the conversion fails.
 */
public final class GrpcReplies {
  private GrpcReplies() {}

  /** Runs {@code action} (which may throw or fail its future) and answers with its result. */
  public static <T, R> void answer(StreamObserver<R> response,
      Supplier<CompletableFuture<T>> action, Function<T, R> convert) {
    CompletableFuture<T> future;
    try {
      future = action.get();
    } catch (RuntimeException e) {
      response.onError(GrpcErrors.toStatus(e));
      return;
    }
    future.whenComplete((value, error) -> {
      if (error != null) {
        response.onError(GrpcErrors.toStatus(error));
        return;
      }
      R converted;
      try {
        converted = convert.apply(value);
      } catch (RuntimeException e) {
        response.onError(GrpcErrors.toStatus(e));
        return;
      }
      response.onNext(converted);
      response.onCompleted();
    });
  }

  /** {@link #answer} for a value known at once. */
  public static <R> void reply(StreamObserver<R> response, Supplier<R> value) {
    answer(response, () -> CompletableFuture.completedFuture(value.get()), Function.identity());
  }
}
