package io.pyml.gateway.identity;

import java.time.Instant;
import java.util.Optional;

/** A token as it is listed: whose it is and when it was made or revoked; never its secret. */
public record TokenInfo(String id, String identity, Instant created, Optional<Instant> revoked) {}
