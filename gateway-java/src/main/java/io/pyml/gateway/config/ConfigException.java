package io.pyml.gateway.config;

/** A flag or environment variable the gateway cannot use; Main exits with code 2. */
public final class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message);
  }
}
