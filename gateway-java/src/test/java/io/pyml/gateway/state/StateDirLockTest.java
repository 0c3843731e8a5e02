package io.pyml.gateway.state;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDirLockTest {
  @TempDir
  Path dir;

  @Test
  void aSecondGatewayOnTheSameStateFolderIsRefusedUntilTheFirstStops() throws IOException {
    StateDirLock first = StateDirLock.acquire(dir.resolve("state"), "gw");

    IOException refused = assertThrows(IOException.class,
        () -> StateDirLock.acquire(dir.resolve("state"), "gw"));
    assertTrue(refused.getMessage().contains("another gateway is running"), refused.getMessage());
    assertTrue(refused.getMessage().contains("'gw'"), refused.getMessage());

    first.close();
    StateDirLock.acquire(dir.resolve("state"), "gw").close();
  }
}
