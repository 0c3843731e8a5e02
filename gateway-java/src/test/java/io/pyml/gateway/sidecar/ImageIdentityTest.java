package io.pyml.gateway.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** An image runs only if its id and labels are the registered version's. */
class ImageIdentityTest {
  private static final String ID = "sha256:" + "a".repeat(64);
  private static final String SHA = "b".repeat(64);
  private static final RuntimeSpec SPEC =
      RuntimeSpec.container("tensor", 2, ID, SHA, ResourceLimits.NONE);

  private static Map<String, String> labels(String name, String version, String sha) {
    return Map.of(ImageIdentity.NAME_LABEL, name, ImageIdentity.VERSION_LABEL, version,
        ImageIdentity.SHA256_LABEL, sha);
  }

  @Test
  void theVersionsOwnImagePasses() {
    assertEquals(Optional.empty(), ImageIdentity.mismatch(SPEC, ID, labels("tensor", "2", SHA)));
  }

  @Test
  void anotherModelsImageIsNamedWithEveryDifference() {
    assertEquals(Optional.of("image " + ID + " is not the image of model 'tensor' version 2 in "
        + "the registry: label io.pyml.model.name is 'cancer' (manifest: 'tensor'), label "
        + "io.pyml.model.version is '1' (manifest: '2'), label io.pyml.model.sha256 is 'c' "
        + "(manifest: '" + SHA + "'); refusing to run it"),
        ImageIdentity.mismatch(SPEC, ID, labels("cancer", "1", "c")));
  }

  @Test
  void missingLabelsAndAnotherIdAreMismatches() {
    String other = "sha256:" + "d".repeat(64);
    String problem = ImageIdentity.mismatch(SPEC, other, null).orElseThrow();
    assertEquals(true, problem.contains("its id is " + other + " (manifest: " + ID + ")"));
    assertEquals(true, problem.contains("label io.pyml.model.sha256 is missing"), problem);
  }
}
