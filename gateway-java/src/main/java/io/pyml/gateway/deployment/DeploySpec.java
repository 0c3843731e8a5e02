package io.pyml.gateway.deployment;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/** What to deploy: a model name, its version (0: an unversioned home folder) and its home. */
public record DeploySpec(String name, long version, Path home) {
  /** Names travel in URLs, file names and logs: keep them plain. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  /** Checks a deploy request from any front end; refusals are INVALID_INPUT. */
  public static DeploySpec of(String name, long version, String homePath) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new GatewayException(ErrorKind.INVALID_INPUT, "model name '" + name
          + "' is not valid (expected: letters, digits, '.', '_', '-', at most 128)");
    }
    if (version < 0) {
      throw new GatewayException(ErrorKind.INVALID_INPUT,
          "model version " + version + " is negative (expected: 0 for unversioned, or >= 1)");
    }
    if (homePath == null || homePath.isBlank()) {
      throw new GatewayException(ErrorKind.INVALID_INPUT,
          "home_path is empty (expected: the model's home folder on the gateway's machine)");
    }
    Path home = Path.of(homePath).toAbsolutePath().normalize();
    if (!Files.isDirectory(home)) {
      throw new GatewayException(ErrorKind.INVALID_INPUT,
          "home folder '" + home + "' does not exist on the gateway's machine");
    }
    return new DeploySpec(name, version, home);
  }
}
