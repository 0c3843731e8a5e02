package io.pyml.gateway.frontend.thrift;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.dispatch.DataPlane;
import io.pyml.gateway.identity.Credentials;
import io.pyml.thrift.v1.ModelInfo;
import io.pyml.thrift.v1.PredictRequest;
import io.pyml.thrift.v1.PredictResponse;
import io.pyml.thrift.v1.PredictionService;
import io.pyml.thrift.v1.PymlError;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/**
 * The Thrift API: its structs to and from the data plane's calls (the same as gRPC's), errors
 * in the one Thrift table ({@link ThriftErrors}). Each connection has a thread of its own (see
 * {@link ThriftFrontEnd}), which waits for its call.
 */
final class ThriftPredictionHandler implements PredictionService.Iface {
  private final DataPlane plane;

  ThriftPredictionHandler(DataPlane plane) {
    this.plane = plane;
  }

  @Override
  public PredictResponse predict(PredictRequest request) throws PymlError {
    // The data plane ends every call by its deadline, so this wait is bounded.
    return answer(() -> plane.predict(ThriftConverters.toCall(request))
        .thenApply(ThriftConverters::toThrift));
  }

  @Override
  public List<ModelInfo> listModels(String authorization) throws PymlError {
    return answer(() -> CompletableFuture.completedFuture(
        plane.deployments(Credentials.fromAuthorization(authorization)).stream().map(ThriftConverters::toThrift).toList()));
  }

  @Override
  public ModelInfo getModel(String modelName, String authorization) throws PymlError {
    return answer(() -> CompletableFuture.completedFuture(ThriftConverters.toThrift(
        plane.deployment(Credentials.fromAuthorization(authorization), modelName))));
  }

  /** The call's value, or its error as the PymlError every Thrift method throws. */
  private static <T> T answer(Supplier<CompletableFuture<T>> call) throws PymlError {
    try {
      return call.get().get();
    } catch (ExecutionException e) {
      throw ThriftErrors.toPymlError(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ThriftErrors.toPymlError(new GatewayException(ErrorKind.UNAVAILABLE,
          "the gateway is stopping"));
    } catch (RuntimeException e) {
      throw ThriftErrors.toPymlError(e);
    }
  }
}
