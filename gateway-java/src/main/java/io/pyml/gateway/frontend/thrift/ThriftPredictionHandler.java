package io.pyml.gateway.frontend.thrift;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.deployment.Deployment;
import io.pyml.gateway.deployment.DeploymentManager;
import io.pyml.gateway.dispatch.Dispatcher;
import io.pyml.thrift.v1.ModelInfo;
import io.pyml.thrift.v1.PredictRequest;
import io.pyml.thrift.v1.PredictResponse;
import io.pyml.thrift.v1.PredictionService;
import io.pyml.thrift.v1.PymlError;
import java.util.List;
import java.util.concurrent.ExecutionException;

/**
 * The Thrift API: convert, call the dispatcher (the same one as gRPC), map errors. Each
 * connection has a thread of its own (see {@link ThriftFrontEnd}), which waits for its call.
 */
final class ThriftPredictionHandler implements PredictionService.Iface {
  private final Dispatcher dispatcher;
  private final DeploymentManager deployments;

  ThriftPredictionHandler(Dispatcher dispatcher, DeploymentManager deployments) {
    this.dispatcher = dispatcher;
    this.deployments = deployments;
  }

  @Override
  public PredictResponse predict(PredictRequest request) throws PymlError {
    try {
      // The dispatcher ends every call by its deadline, so this wait is bounded.
      return ThriftConverters.toThrift(dispatcher.predict(ThriftConverters.toCall(request)).get());
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

  @Override
  public List<ModelInfo> listModels() {
    return deployments.list().stream().map(d -> ThriftConverters.toThrift(d.view())).toList();
  }

  @Override
  public ModelInfo getModel(String modelName) throws PymlError {
    return deployments.find(modelName).map(Deployment::view).map(ThriftConverters::toThrift)
        .orElseThrow(() -> ThriftErrors.toPymlError(new GatewayException(ErrorKind.NOT_FOUND,
            "model '" + modelName + "' is not deployed")));
  }
}
