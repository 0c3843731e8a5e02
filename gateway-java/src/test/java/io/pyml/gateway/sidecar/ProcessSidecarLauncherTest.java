package io.pyml.gateway.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The process launcher with real child processes standing in for the runtime. */
class ProcessSidecarLauncherTest {
  private Path work;
  private Path home;

  @BeforeEach
  void dirs() throws IOException {
    work = Files.createTempDirectory(Path.of("/tmp"), "pyml-pst-");
    home = Files.createDirectories(work.resolve("home"));
  }

  @AfterEach
  void clean() {
    SocketDirs.deleteRecursively(work);
  }

  @Test
  void runsTheCommandWithServeArgumentsAndLogsItsOutput() throws Exception {
    // echo prints the arguments it got: exactly what a runtime would receive.
    RunningSidecar sidecar = new ProcessSidecarLauncher(List.of("/bin/echo", "runtime"))
        .launch(RuntimeSpec.process("my_model", 3, home), work.resolve("d1"));
    assertEquals(0, sidecar.onExit().get(10, TimeUnit.SECONDS));
    Path socket = work.resolve("d1").resolve("model.sock");
    assertEquals(socket, sidecar.socketPath());
    assertEquals(List.of("runtime serve --home " + home + " --socket " + socket
        + " --name my_model"), sidecar.logTail(20));
    sidecar.stop();
    assertFalse(Files.exists(work.resolve("d1")), "stop removes the socket folder");
  }

  @Test
  void stopEndsARunningRuntime() throws Exception {
    RunningSidecar sidecar = new ProcessSidecarLauncher(
        List.of("/bin/sh", "-c", "echo started; exec sleep 60", "sh"))
        .launch(RuntimeSpec.process("m", 0, home), work.resolve("d2"));
    assertFalse(sidecar.onExit().isDone());
    long start = System.nanoTime();
    sidecar.stop();
    assertTrue(sidecar.onExit().isDone());
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(4), "SIGTERM was enough");
    assertFalse(Files.exists(work.resolve("d2")));
  }

  @Test
  void aMissingCommandFailsWithItsName() {
    IOException error = assertThrows(IOException.class, () ->
        new ProcessSidecarLauncher(List.of("/no/such/pyml-runtime"))
            .launch(RuntimeSpec.process("m", 0, home), work.resolve("d3")));
    assertTrue(error.getMessage().contains("/no/such/pyml-runtime"), error.getMessage());
  }

  @Test
  void tooLongSocketPathsAreRefusedUpFront() {
    Path deep = work.resolve("x".repeat(120));
    IOException error = assertThrows(IOException.class, () ->
        new ProcessSidecarLauncher(List.of("/bin/true"))
            .launch(RuntimeSpec.process("m", 0, home), deep));
    assertTrue(error.getMessage().contains("107-byte limit"), error.getMessage());
  }

  @Test
  void logTailKeepsTheLastLines() throws IOException {
    Path log = work.resolve("runtime.log");
    StringBuilder text = new StringBuilder();
    for (int i = 1; i <= 50; i++) {
      text.append("line ").append(i).append('\n');
    }
    Files.writeString(log, text);
    List<String> tail = LogTail.read(log, 20);
    assertEquals(20, tail.size());
    assertEquals("line 31", tail.get(0));
    assertEquals("line 50", tail.get(19));
    assertEquals(List.of(), LogTail.read(work.resolve("missing.log"), 20));
  }
}
