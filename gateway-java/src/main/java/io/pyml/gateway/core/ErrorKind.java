package io.pyml.gateway.core;

/**
 * The gateway's one error vocabulary. Every front end maps these (and only these) to its own
 * wire codes, so a failure reads the same whatever protocol the client speaks.
 */
public enum ErrorKind {
  /** No such model, or not that version. */
  NOT_FOUND,
  /** The request is malformed or does not fit the model (payload kind, columns, tensors). */
  INVALID_INPUT,
  /**
   * The request is well formed but what it names cannot be used as it is: a registered version
   * that is not ready, or whose archive no longer matches its manifest (tampered).
   */
  FAILED_PRECONDITION,
  /** The model is not READY or its runtime cannot be reached. */
  UNAVAILABLE,
  /** The answer did not come within the call's deadline. */
  DEADLINE_EXCEEDED,
  /** The payload is over the gateway's size limit. */
  RESOURCE_EXHAUSTED,
  /** The model's own code raised. */
  MODEL_ERROR,
  /** A bug or an unexpected failure in the gateway or the runtime. */
  INTERNAL,
  /** The call carries no credential, or one that identifies nobody, where one is needed. */
  UNAUTHENTICATED,
  /** The caller is known but lacks the permission the call needs. */
  PERMISSION_DENIED
}
