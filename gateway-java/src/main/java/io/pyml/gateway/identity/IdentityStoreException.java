package io.pyml.gateway.identity;

/** The identity store failed: the gateway cannot say who calls, so it refuses the call. */
public final class IdentityStoreException extends RuntimeException {
  public IdentityStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
