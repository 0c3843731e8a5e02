package io.pyml.gateway.state;

/** The gateway's state cannot be read or written; the message names the file and why. */
public final class StateException extends Exception {
  private static final long serialVersionUID = 1L;

  public StateException(String message, Throwable cause) {
    super(message, cause);
  }

  public StateException(String message) {
    super(message);
  }
}
