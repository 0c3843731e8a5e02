package io.pyml.gateway.core;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** What every front end does before mapping a failure: see through the futures' wrappers. */
public final class Failures {
  private Failures() {}

  /** The failure a CompletableFuture chain wrapped (once or several times). */
  public static Throwable unwrap(Throwable error) {
    Throwable cause = error;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }
}
