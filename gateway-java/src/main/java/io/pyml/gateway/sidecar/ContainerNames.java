package io.pyml.gateway.sidecar;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Readable names for model containers, as {@code docker ps} shows them: the model, its version,
 * which deployment, replica and start of it ({@code d3r0a1}: the runtime's socket folder),
 * and the gateway that runs it, e.g. {@code pyml-breast_cancer_lr-v2-d3r0a1-default}.
 */
final class ContainerNames {
  /** Docker's rule for names; anything else in a part becomes '_'. */
  private static final String NOT_ALLOWED = "[^A-Za-z0-9_.-]";
  private static final int MAX_PART = 64;
  private static final SecureRandom RANDOM = new SecureRandom();

  private ContainerNames() {}

  static String of(String gatewayId, RuntimeSpec spec, Path socketDir) {
    return "pyml-" + part(spec.name()) + "-v" + spec.version() + "-"
        + part(socketDir.getFileName().toString()) + "-" + part(gatewayId);
  }

  /** The name with a random suffix, for when another container holds it. */
  static String unique(String name) {
    byte[] suffix = new byte[3];
    RANDOM.nextBytes(suffix);
    return name + "-" + HexFormat.of().formatHex(suffix);
  }

  private static String part(String text) {
    String allowed = text.replaceAll(NOT_ALLOWED, "_");
    return allowed.length() <= MAX_PART ? allowed : allowed.substring(0, MAX_PART);
  }
}
