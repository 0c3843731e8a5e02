package io.pyml.gateway.state;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JsonFileDeploymentStoreTest {
  static final DesiredDeployment CANCER =
      new DesiredDeployment("cancer", 2, "sha256:abc", 3, 512L << 20, 0.5, 0);
  static final DesiredDeployment TENSOR =
      new DesiredDeployment("tensor", 1, "sha256:def", 1, 0, 0, 0);

  @TempDir
  Path dir;

  @Test
  void whatIsRecordedIsWhatANewStoreLoads() throws Exception {
    JsonFileDeploymentStore store = new JsonFileDeploymentStore(dir.resolve("gw"));
    assertEquals(List.of(), store.load(), "a new gateway has no state file yet");
    store.put(CANCER);
    store.put(TENSOR);
    store.put(new DesiredDeployment("cancer", 3, "sha256:abd", 1, 0, 0, 0));
    store.remove("tensor");
    store.remove("never-deployed");

    List<DesiredDeployment> loaded = new JsonFileDeploymentStore(dir.resolve("gw")).load();
    assertEquals(List.of(new DesiredDeployment("cancer", 3, "sha256:abd", 1, 0, 0, 0)), loaded);
  }

  @Test
  void writesAreAtomicAndPrivate() throws Exception {
    JsonFileDeploymentStore store = new JsonFileDeploymentStore(dir);
    store.put(CANCER);
    // A write that crashed before its rename leaves a temporary file: never read as state.
    Files.writeString(dir.resolve(".deployments.json123.tmp"), "{\"format\": 1, \"dep");
    store.put(TENSOR);

    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(List.of(".deployments.json123.tmp", "deployments.json"),
          files.map(p -> p.getFileName().toString()).sorted().toList(),
          "the store's own temporary files are renamed or removed");
    }
    assertEquals("rw-------", PosixFilePermissions.toString(
        Files.getPosixFilePermissions(store.file())));
    assertEquals(List.of(CANCER, TENSOR), new JsonFileDeploymentStore(dir).load());
  }

  @Test
  void aCorruptFileIsAClearErrorAndIsNeverOverwritten() throws Exception {
    Path file = dir.resolve(JsonFileDeploymentStore.FILE);
    String torn = "{\"format\": 1, \"deployments\": [{\"name\": \"cancer\", \"vers";
    Files.writeString(file, torn);
    JsonFileDeploymentStore store = new JsonFileDeploymentStore(dir);

    StateException error = assertThrows(StateException.class, store::load);
    assertTrue(error.getMessage().contains(file.toString()), error.getMessage());
    assertTrue(error.getMessage().contains("not valid"), error.getMessage());
    assertThrows(StateException.class, () -> store.put(TENSOR), "no write over unread state");
    assertEquals(torn, Files.readString(file, StandardCharsets.UTF_8), "nothing was lost");
  }

  @Test
  void entriesOutOfRangeOrANewerFormatAreRefused() throws Exception {
    Path file = dir.resolve(JsonFileDeploymentStore.FILE);
    Files.writeString(file, "{\"format\": 2, \"deployments\": []}");
    StateException newer = assertThrows(StateException.class,
        () -> new JsonFileDeploymentStore(dir).load());
    assertTrue(newer.getMessage().contains("format 2"), newer.getMessage());

    Files.writeString(file, "{\"format\": 1, \"deployments\": [{\"name\": \"m\", \"version\": 0,"
        + " \"image\": \"sha256:a\", \"replicas\": 1, \"memoryBytes\": 0, \"cpus\": 0,"
        + " \"pids\": 0}]}");
    StateException range = assertThrows(StateException.class,
        () -> new JsonFileDeploymentStore(dir).load());
    assertTrue(range.getMessage().contains("version=0"), range.getMessage());
  }
}
