package io.pyml.gateway.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkDirsTest {
  @TempDir
  Path tmp;

  @Test
  void theDefaultIsStablePerGatewayIdAndShort() {
    assertEquals(Path.of("/tmp/pyml-gw-gw-1"), WorkDirs.defaultFor("gw-1"));
    assertEquals(WorkDirs.defaultFor("gw-1"), WorkDirs.defaultFor("gw-1"));
    Path hashed = WorkDirs.defaultFor("a".repeat(64));
    assertEquals(Path.of("/tmp"), hashed.getParent());
    assertTrue(hashed.toString().length() <= "/tmp/pyml-gw-".length() + 24, hashed.toString());
  }

  @Test
  void itIsCreatedPrivateAndALinkPlantedThereIsRefused() throws Exception {
    Path dir = WorkDirs.ensurePrivate(tmp.resolve("w"));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    assertEquals(dir, WorkDirs.ensurePrivate(dir), "an existing own folder is reused");

    Path planted = Files.createSymbolicLink(tmp.resolve("planted"), Files.createDirectory(
        tmp.resolve("elsewhere")));
    IOException error = assertThrows(IOException.class, () -> WorkDirs.ensurePrivate(planted));
    assertTrue(error.getMessage().contains("not a folder"), error.getMessage());
  }

  @Test
  void aNormalStopRemovesItOnlyWhenEmpty() throws Exception {
    Path dir = WorkDirs.ensurePrivate(tmp.resolve("w"));
    Files.createDirectory(dir.resolve("d1r0a0"));
    WorkDirs.removeIfEmpty(dir);
    assertTrue(Files.exists(dir), "a folder still in use stays");
    Files.delete(dir.resolve("d1r0a0"));
    WorkDirs.removeIfEmpty(dir);
    assertFalse(Files.exists(dir));
  }
}
