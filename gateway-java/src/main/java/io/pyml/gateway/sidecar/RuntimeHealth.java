package io.pyml.gateway.sidecar;

/** The runtime's gRPC health, reduced to what the lifecycle acts on. */
public enum RuntimeHealth {
  /** The model is loaded and predictions may be sent. */
  SERVING,
  /** Listening, still loading the model (or any status other than SERVING). */
  NOT_SERVING
}
