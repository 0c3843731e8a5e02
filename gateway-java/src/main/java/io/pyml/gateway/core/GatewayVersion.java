package io.pyml.gateway.core;

/**
 * The gateway's own PyML version: the Maven project version, which the shaded jar's manifest
 * carries as Implementation-Version. Classes not run from that jar (tests, an IDE) have none.
 */
public final class GatewayVersion {
  /** What the version reads as outside the jar. */
  public static final String UNKNOWN = "unknown";

  private GatewayVersion() {}

  public static String current() {
    String version = GatewayVersion.class.getPackage().getImplementationVersion();
    return version == null || version.isBlank() ? UNKNOWN : version;
  }
}
