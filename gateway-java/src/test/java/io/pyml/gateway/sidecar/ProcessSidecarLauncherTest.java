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
  private static final boolean ROOT = "root".equals(System.getProperty("user.name"));
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
    RunningSidecar sidecar = new ProcessSidecarLauncher(List.of("/bin/echo", "runtime"),
        ResourceLimits.DEFAULTS).launch(RuntimeSpec.process("my_model", 3, home), work.resolve("d1"));
    assertEquals(0, sidecar.onExit().get(10, TimeUnit.SECONDS));
    Path socket = work.resolve("d1").resolve("run").resolve("model.sock");
    assertEquals(socket, sidecar.socketPath());
    // As root the runtime reads a snapshot of the home (uid 65534 may not read the original).
    Path served = ROOT ? work.resolve("d1").resolve("home") : home;
    assertEquals(List.of("runtime serve --home " + served + " --socket " + socket
        + " --name my_model"), sidecar.logTail(20));
    sidecar.stop();
    assertFalse(Files.exists(work.resolve("d1")), "stop removes the socket folder");
  }

  @Test
  void theRuntimeGetsACleanEnvironmentLimitsAndAnUnprivilegedUser() throws Exception {
    Files.writeString(home.resolve("model.py"), "secret = 1\n");
    RunningSidecar sidecar = new ProcessSidecarLauncher(List.of("/bin/sh", "-c",
        "env | sort; id -u; id -G; ulimit -d; cat model.py; touch model.py || echo read-only",
        "sh"), new ResourceLimits(512L * 1024 * 1024, 1.0, 64))
        .launch(RuntimeSpec.process("m", 0, home), work.resolve("d4"));
    assertEquals(0, sidecar.onExit().get(10, TimeUnit.SECONDS));
    List<String> out = sidecar.logTail(50);
    Path tmp = work.resolve("d4").resolve("tmp");
    for (String line : List.of("HOME=" + tmp, "TMPDIR=" + tmp, "LANG=C.UTF-8",
        "PYTHONUNBUFFERED=1", "secret = 1", String.valueOf(512 * 1024))) {
      assertTrue(out.contains(line), line + " in " + out);
    }
    assertTrue(out.stream().noneMatch(l -> l.startsWith("DOCKER_") || l.startsWith("JAVA_")
        || l.startsWith("MAVEN") || l.startsWith("USER=")), out.toString());
    if (ROOT) {
      assertTrue(out.contains("65534"), "uid and only group 65534: " + out);
      assertTrue(out.contains("read-only"), "the snapshot is not the runtime's to change: " + out);
    }
    sidecar.stop();
  }

  @Test
  void theSnapshotCopiesLinksAsLinksNeverTheirTargets() throws Exception {
    Path secret = Files.writeString(work.resolve("secret.txt"), "root only");
    Files.createSymbolicLink(home.resolve("leak"), secret);
    Path copy = work.resolve("copy");
    ProcessSandbox.copyReadOnly(home, copy);
    assertTrue(Files.isSymbolicLink(copy.resolve("leak")));
    assertEquals(secret, Files.readSymbolicLink(copy.resolve("leak")));
  }

  @Test
  void stopEndsARunningRuntime() throws Exception {
    RunningSidecar sidecar = new ProcessSidecarLauncher(
        List.of("/bin/sh", "-c", "echo started; exec sleep 60", "sh"), ResourceLimits.DEFAULTS)
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
        new ProcessSidecarLauncher(List.of("/no/such/pyml-runtime"), ResourceLimits.DEFAULTS)
            .launch(RuntimeSpec.process("m", 0, home), work.resolve("d3")));
    assertTrue(error.getMessage().contains("/no/such/pyml-runtime"), error.getMessage());
  }

  @Test
  void tooLongSocketPathsAreRefusedUpFront() {
    Path deep = work.resolve("x".repeat(120));
    IOException error = assertThrows(IOException.class, () ->
        new ProcessSidecarLauncher(List.of("/bin/true"), ResourceLimits.DEFAULTS)
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
