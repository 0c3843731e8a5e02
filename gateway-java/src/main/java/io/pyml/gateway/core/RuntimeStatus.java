package io.pyml.gateway.core;

import java.util.Map;
import java.util.Objects;

/**
 * An error status exactly as a model runtime sent it: its code name (e.g. "INTERNAL"),
 * description and PyML trailers (e.g. pyml-error, pyml-exception-type). Front ends pass it to
 * the client unchanged, so the model's own diagnosis is not rewritten by the gateway.
 */
public record RuntimeStatus(String code, String description, Map<String, String> trailers) {
  public RuntimeStatus {
    Objects.requireNonNull(code, "code");
    description = description == null ? "" : description;
    trailers = Map.copyOf(trailers);
  }
}
