package io.pyml.gateway.dispatch;

import io.pyml.gateway.core.Payload;

/** The model's answer, with which model and version gave it and the request's id. */
public record PredictResult(String modelName, long modelVersion, Payload payload,
    String requestId) {}
