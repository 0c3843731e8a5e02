package io.pyml.gateway.sidecar;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Is this image the registered version it is said to be? The build labels every model image
 * with {@code io.pyml.model.name}, {@code .version} and {@code .sha256} (the archive's hash,
 * see pyml_launcher/dockerfile.py); the registry has checked the archive against the
 * manifest. A manifest pointed at another image (archive untouched) is caught here, before
 * the image runs: its labels name another model, version or archive.
 */
public final class ImageIdentity {
  public static final String NAME_LABEL = "io.pyml.model.name";
  public static final String VERSION_LABEL = "io.pyml.model.version";
  public static final String SHA256_LABEL = "io.pyml.model.sha256";

  private ImageIdentity() {}

  /**
   * What differs between the image ({@code id}, {@code labels}) and {@code spec}, as one
   * sentence; empty when it is the version's image.
   */
  public static Optional<String> mismatch(RuntimeSpec spec, String id, Map<String, String> labels) {
    List<String> differences = new ArrayList<>();
    String expectedId = spec.image().orElseThrow();
    if (expectedId.startsWith("sha256:") && !expectedId.equals(id)) {
      differences.add("its id is " + id + " (manifest: " + expectedId + ")");
    }
    Map<String, String> seen = labels == null ? Map.of() : labels;
    compare(differences, seen, NAME_LABEL, spec.name());
    compare(differences, seen, VERSION_LABEL, Long.toString(spec.version()));
    compare(differences, seen, SHA256_LABEL, spec.archiveSha256());
    if (differences.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of("image " + expectedId + " is not the image of model '" + spec.name()
        + "' version " + spec.version() + " in the registry: " + String.join(", ", differences)
        + "; refusing to run it");
  }

  private static void compare(List<String> differences, Map<String, String> labels,
      String label, String expected) {
    String actual = labels.get(label);
    if (actual == null) {
      differences.add("label " + label + " is missing (manifest: '" + expected + "')");
    } else if (!actual.equals(expected)) {
      differences.add("label " + label + " is '" + actual + "' (manifest: '" + expected + "')");
    }
  }
}
