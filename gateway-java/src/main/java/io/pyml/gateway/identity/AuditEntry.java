package io.pyml.gateway.identity;

import java.time.Instant;

/**
 * One line of the audit log: who did (or was refused) what, on which model and version, how
 * it ended, and when. {@code version} 0: none or the live one; {@code model} empty: none.
 */
public record AuditEntry(long seq, Instant at, String identity, String action, String model,
    long version, String outcome, String detail) {
  public static final String OK = "ok";
  public static final String FAILED = "failed";
  public static final String UNAUTHENTICATED = "unauthenticated";
  public static final String DENIED = "denied";
}
