package io.pyml.gateway.sidecar;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * What one runtime runs: a home folder as a local process (development), or a registered
 * version's image as a container, with its limits. Exactly one of home and image is present.
 *
 * @param archiveSha256 for an image: the sha256 of the version's archive in the registry,
 *     which the image's {@code io.pyml.model.sha256} label must repeat; empty for a home
 */
public record RuntimeSpec(
    String name, long version, Optional<Path> home, Optional<String> image,
    ResourceLimits limits, String archiveSha256) {

  public RuntimeSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(home, "home");
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(limits, "limits");
    Objects.requireNonNull(archiveSha256, "archiveSha256");
    if (home.isPresent() == image.isPresent()) {
      throw new IllegalArgumentException("a runtime runs either a home folder or an image");
    }
  }

  public static RuntimeSpec process(String name, long version, Path home) {
    return new RuntimeSpec(name, version, Optional.of(home), Optional.empty(),
        ResourceLimits.NONE, "");
  }

  public static RuntimeSpec container(String name, long version, String image,
      String archiveSha256, ResourceLimits limits) {
    return new RuntimeSpec(name, version, Optional.empty(), Optional.of(image), limits,
        archiveSha256);
  }

  public boolean isContainer() {
    return image.isPresent();
  }
}
