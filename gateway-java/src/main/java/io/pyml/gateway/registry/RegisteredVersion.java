package io.pyml.gateway.registry;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A registered version that may be deployed: its manifest said "ready" and its archive's bytes
 * still hash to the manifest's sha256.
 *
 * @param image the image id the version was built and validated as (what containers run)
 * @param imageTag the human-readable tag of that image, for listings
 * @param archiveSha256 the archive's sha256 (checked); the image's io.pyml.model.sha256 label
 */
public record RegisteredVersion(
    String name, long version, String kind, String image, String imageTag, Path archive,
    String archiveSha256) {
  public RegisteredVersion {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(imageTag, "imageTag");
    Objects.requireNonNull(archive, "archive");
    Objects.requireNonNull(archiveSha256, "archiveSha256");
  }

  public String ref() {
    return name + ":" + version;
  }
}
