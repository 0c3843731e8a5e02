package io.pyml.gateway.identity;

import java.util.Optional;

/**
 * What a call presented to prove who it comes from, as its front end found it (gRPC and OIP
 * {@code authorization} metadata, Thrift's {@code authorization} field, an HTTP header or
 * cookie): a bearer token, unchecked. Only the data plane turns it into a {@link Caller}.
 */
public record Credentials(Optional<String> bearer) {
  public static final Credentials NONE = new Credentials(Optional.empty());
  private static final String BEARER = "bearer ";

  /** From an {@code Authorization} value: {@code Bearer <token>}, or the bare token. */
  public static Credentials fromAuthorization(String value) {
    if (value == null || value.isBlank()) {
      return NONE;
    }
    String trimmed = value.strip();
    if (trimmed.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      trimmed = trimmed.substring(BEARER.length()).strip();
    }
    return trimmed.isEmpty() ? NONE : new Credentials(Optional.of(trimmed));
  }
}
