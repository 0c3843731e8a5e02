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
import java.util.List;
import org.apache.thrift.async.AsyncMethodCallback;

/**
 * The Thrift API: convert, call the dispatcher (the same one as gRPC), map errors. Asynchronous,
 * so a selector or worker thread never waits for a model.
 */
final class ThriftPredictionHandler implements PredictionService.AsyncIface {
  private final Dispatcher dispatcher;
  private final DeploymentManager deployments;

  ThriftPredictionHandler(Dispatcher dispatcher, DeploymentManager deployments) {
    this.dispatcher = dispatcher;
    this.deployments = deployments;
  }

  @Override
  public void predict(PredictRequest request, AsyncMethodCallback<PredictResponse> answer) {
    dispatcher.predict(ThriftConverters.toCall(request)).whenComplete((result, error) -> {
      if (error != null) {
        answer.onError(ThriftErrors.toPymlError(error));
      } else {
        answer.onComplete(ThriftConverters.toThrift(result));
      }
    });
  }

  @Override
  public void listModels(AsyncMethodCallback<List<ModelInfo>> answer) {
    answer.onComplete(deployments.list().stream()
        .map(d -> ThriftConverters.toThrift(d.view())).toList());
  }

  @Override
  public void getModel(String modelName, AsyncMethodCallback<ModelInfo> answer) {
    deployments.find(modelName).map(Deployment::view).map(ThriftConverters::toThrift)
        .ifPresentOrElse(answer::onComplete, () -> answer.onError(ThriftErrors.toPymlError(
            new GatewayException(ErrorKind.NOT_FOUND, "model '" + modelName
                + "' is not deployed"))));
  }
}
