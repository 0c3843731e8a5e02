package io.pyml.gateway.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BindSourcesTest {

  @Test
  void aGatewayOnTheEnginesHostPassesItsOwnPaths() {
    assertEquals("/tmp/pyml-gw-1/d1r0a0", BindSources.sameHost().of(Path.of("/tmp/pyml-gw-1/d1r0a0")));
  }

  @Test
  void aGatewayInAContainerTranslatesFoldersUnderItsWorkDir() {
    BindSources nested = new BindSources(Path.of("/var/lib/pyml-gateway/work"),
        Optional.of("/home/me/pyml-work/"));
    assertEquals("/home/me/pyml-work/d1r0a0",
        nested.of(Path.of("/var/lib/pyml-gateway/work/d1r0a0")));
    assertEquals("/home/me/pyml-work", nested.of(Path.of("/var/lib/pyml-gateway/work")));
    // Docker Desktop on Windows: a host path this JVM cannot parse as its own.
    BindSources desktop = new BindSources(Path.of("/work"), Optional.of("C:\\Users\\me\\work\\"));
    assertEquals("C:\\Users\\me\\work/d2r1a0", desktop.of(Path.of("/work/d2r1a0")));
  }

  @Test
  void aFolderOutsideTheWorkDirHasNoHostPath() {
    BindSources nested = new BindSources(Path.of("/work"), Optional.of("/host/work"));
    assertThrows(IllegalArgumentException.class, () -> nested.of(Path.of("/elsewhere/d1")));
    assertThrows(IllegalArgumentException.class, () -> nested.of(Path.of("/work/../etc")));
  }
}
