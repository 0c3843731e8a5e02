package io.pyml.gateway.registry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway's reading of a registry laid out as the Python SDK writes it. */
class ModelRegistryTest {
  @TempDir Path root;

  @Test
  void theNewestReadyVersionIsChosenAndAnExactOneIsFound() throws Exception {
    register("cancer", 1, "ready", "archive one");
    register("cancer", 2, "ready", "archive two");
    register("cancer", 3, "failed", "archive three");
    ModelRegistry registry = new ModelRegistry(root);

    RegisteredVersion newest = registry.resolve("cancer", 0);
    assertEquals(2, newest.version());
    assertEquals("sha256:image2", newest.image());
    assertEquals("pyml/cancer:2", newest.imageTag());
    assertEquals(1, registry.resolve("cancer", 1).version());
  }

  @Test
  void unknownNamesAndVersionsAreNotFoundListingWhatExists() throws Exception {
    register("cancer", 1, "ready", "one");
    register("iris", 1, "ready", "one");
    ModelRegistry registry = new ModelRegistry(root);

    GatewayException name = assertThrows(GatewayException.class,
        () -> registry.resolve("nope", 0));
    assertEquals(ErrorKind.NOT_FOUND, name.kind());
    assertTrue(name.getMessage().contains("registered models: cancer, iris"), name.getMessage());
    GatewayException version = assertThrows(GatewayException.class,
        () -> registry.resolve("cancer", 7));
    assertEquals(ErrorKind.NOT_FOUND, version.kind());
    assertTrue(version.getMessage().contains("no version 7") && version.getMessage()
        .contains("versions: 1"), version.getMessage());
  }

  @Test
  void aTamperedArchiveOrAVersionNotReadyIsAFailedPrecondition() throws Exception {
    register("cancer", 1, "ready", "original bytes");
    register("cancer", 2, "failed", "two");
    Path archive = root.resolve("models/cancer/versions/1/home.tar.gz");
    Files.writeString(archive, "tampered bytes");
    ModelRegistry registry = new ModelRegistry(root);

    GatewayException tampered = assertThrows(GatewayException.class,
        () -> registry.resolve("cancer", 1));
    assertEquals(ErrorKind.FAILED_PRECONDITION, tampered.kind());
    assertTrue(tampered.getMessage().contains("cancer:1 is tampered")
        && tampered.getMessage().contains(archive.toString()), tampered.getMessage());
    GatewayException failed = assertThrows(GatewayException.class,
        () -> registry.resolve("cancer", 2));
    assertEquals(ErrorKind.FAILED_PRECONDITION, failed.kind());
    assertTrue(failed.getMessage().contains("status 'failed'"), failed.getMessage());
    GatewayException noneReady = assertThrows(GatewayException.class,
        () -> new ModelRegistry(root).resolve("cancer", 0));
    assertEquals(ErrorKind.FAILED_PRECONDITION, noneReady.kind(), "1 is tampered, 2 failed");
  }

  @Test
  void aManifestMovedToAnotherNameIsRefused() throws Exception {
    register("cancer", 1, "ready", "bytes");
    Path moved = Files.createDirectories(root.resolve("models/other/versions/1"));
    for (String file : new String[] {"manifest.json", "home.tar.gz"}) {
      Files.copy(root.resolve("models/cancer/versions/1").resolve(file), moved.resolve(file));
    }
    GatewayException error = assertThrows(GatewayException.class,
        () -> new ModelRegistry(root).resolve("other", 1));
    assertEquals(ErrorKind.FAILED_PRECONDITION, error.kind());
    assertTrue(error.getMessage().contains("describes cancer:1"), error.getMessage());
  }

  @Test
  void theDefaultRegistryLivesUnderPymlHome() {
    assertEquals(Path.of("/srv/pyml/registry"),
        ModelRegistry.defaultDir(Map.of("PYML_HOME", "/srv/pyml")));
    assertEquals(Path.of(System.getProperty("user.home"), ".pyml", "registry"),
        ModelRegistry.defaultDir(Map.of()));
  }

  @Test
  void manifestsAreListedForPeopleWithoutBeingVerified() throws Exception {
    register("cancer", 1, "ready", "one");
    register("cancer", 2, "failed", "two");
    Files.createDirectories(root.resolve("models/cancer/versions/3")); // still building
    Files.createDirectories(root.resolve("models/empty/versions"));
    ModelRegistry registry = new ModelRegistry(root);

    assertEquals(java.util.List.of("cancer"), registry.names());
    var versions = registry.manifests("cancer");
    assertEquals(java.util.List.of(1L, 2L, 3L),
        versions.stream().map(VersionManifest::version).toList());
    assertTrue(versions.get(0).ready());
    assertEquals("pyml/cancer:1", versions.get(0).imageTag());
    assertEquals("sha256:image1", versions.get(0).imageDigest(), "the id when no digest");
    assertEquals("not run", versions.get(0).validation());
    assertEquals("failed", versions.get(1).status());
    assertEquals("building", versions.get(2).status());
    assertEquals(java.util.List.of(), registry.manifests("unknown"));
    for (String outside : new String[] {"..", "../cancer", "cancer/../cancer", "a\0b", ""}) {
      assertEquals(java.util.List.of(), registry.manifests(outside), outside);
    }
  }

  private void register(String name, long version, String status, String archiveText)
      throws Exception {
    Path dir = Files.createDirectories(
        root.resolve("models").resolve(name).resolve("versions").resolve(Long.toString(version)));
    byte[] archive = archiveText.getBytes(StandardCharsets.UTF_8);
    Files.write(dir.resolve("home.tar.gz"), archive);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(archive));
    Files.writeString(dir.resolve("manifest.json"), String.format("""
        {"format": 1, "name": "%s", "version": %d, "status": "%s", "kind": "dataframe",
         "archive_sha256": "%s", "failure": null,
         "image": {"id": "sha256:image%d", "tag": "pyml/%s:%d", "digest": "", "size_bytes": 1}}
        """, name, version, status, sha, version, name, version));
  }
}
