package io.pyml.gateway.sidecar;

import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;

/**
 * One call's outcome within a PredictBatch: its answer, or its own error (translated exactly as
 * Predict's would be). Exactly one of the two is set.
 */
public record BatchOutcome(Payload answer, GatewayException error) {
  public BatchOutcome {
    if ((answer == null) == (error == null)) {
      throw new IllegalArgumentException("a batch outcome is an answer or an error");
    }
  }
}
