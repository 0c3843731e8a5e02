package io.pyml.gateway.registry;

import java.util.List;
import java.util.Objects;

/**
 * What a registered version's manifest says, for people (the console): read as it is, not
 * verified; {@link ModelRegistry#resolve} alone decides whether a version may be deployed.
 *
 * @param status "building", "ready" or "failed"
 * @param validation how its validation went, in words ("passed at image build"...)
 * @param failure why it failed to build (with status "failed"), else empty
 * @param files the home folder's files, by path
 */
public record VersionManifest(
    String name,
    long version,
    String status,
    String kind,
    String creator,
    String createdAt,
    String imageTag,
    String imageDigest,
    String inputSchema,
    String outputSchema,
    String validation,
    String runtimeVersion,
    String pythonVersion,
    String failure,
    List<String> files) {

  public VersionManifest {
    Objects.requireNonNull(name, "name");
    files = List.copyOf(files);
  }

  public boolean ready() {
    return "ready".equals(status);
  }
}
