package io.pyml.gateway.dispatch;

import io.pyml.gateway.core.Payload;
import io.pyml.gateway.identity.Credentials;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A prediction request as any front end hands it to the data plane.
 *
 * @param version empty: the live version
 * @param requestId empty: the data plane makes one
 * @param clientTimeout the time the client still allows; empty when it set no deadline
 * @param credentials what the call presented to say who it comes from
 * @param protocol the front end it came in by (for the access log)
 */
public record PredictCall(
    String modelName,
    OptionalLong version,
    Payload payload,
    String requestId,
    Optional<Duration> clientTimeout,
    Credentials credentials,
    Protocol protocol) {

  public PredictCall {
    modelName = modelName == null ? "" : modelName;
    Objects.requireNonNull(version, "version");
    requestId = requestId == null ? "" : requestId;
    Objects.requireNonNull(clientTimeout, "clientTimeout");
    Objects.requireNonNull(credentials, "credentials");
    Objects.requireNonNull(protocol, "protocol");
  }
}
