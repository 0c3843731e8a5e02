package io.pyml.gateway.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.sidecar.SocketDirs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Which home folders may be deployed as processes, and how refusals read. */
class HomeDeployPolicyTest {
  private Path dir;
  private Path roots;
  private Path work;
  private Path home;

  @BeforeEach
  void dirs() throws IOException {
    dir = Files.createTempDirectory(Path.of("/tmp"), "pyml-hdp-");
    roots = Files.createDirectories(dir.resolve("homes"));
    work = Files.createDirectories(dir.resolve("work"));
    home = Files.createDirectories(roots.resolve("model"));
  }

  @AfterEach
  void clean() {
    SocketDirs.deleteRecursively(dir);
  }

  private HomeDeployPolicy policy(Path... allowed) {
    return new HomeDeployPolicy(List.of(allowed), work);
  }

  private static String refusal(HomeDeployPolicy policy, String path) {
    GatewayException error = assertThrows(GatewayException.class, () -> policy.check(path));
    assertEquals(ErrorKind.FAILED_PRECONDITION, error.kind());
    return error.getMessage();
  }

  @Test
  void offByDefaultWithOneMessageForEveryPath() {
    HomeDeployPolicy off = HomeDeployPolicy.off(work);
    assertFalse(off.enabled());
    for (String path : List.of(home.toString(), "/etc", "/no/such/folder", "relative")) {
      assertEquals(HomeDeployPolicy.OFF, refusal(off, path));
    }
  }

  @Test
  void aFolderUnderARootIsAllowedAsItsRealPath() throws IOException {
    assertEquals(home.toRealPath(), policy(roots).check(home.toString()));
    assertEquals(home.toRealPath(), policy(roots).check(roots + "/model/../model"));
  }

  @Test
  void outsideTheRootsTheAnswerDoesNotSayWhetherAFolderExists() throws IOException {
    Path outside = Files.createDirectories(dir.resolve("outside"));
    String existing = refusal(policy(roots), outside.toString());
    String missing = refusal(policy(roots), dir.resolve("missing").toString());
    assertEquals(existing.replace(outside.toString(), "P"),
        missing.replace(dir.resolve("missing").toString(), "P"));
    assertEquals(refusal(policy(roots), "/etc").replace("/etc", "P"),
        refusal(policy(roots), "/etc/passwd").replace("/etc/passwd", "P"));
  }

  @Test
  void symlinksAreJudgedByWhereTheyLead() throws IOException {
    Path outside = Files.createDirectories(dir.resolve("outside"));
    Path link = Files.createSymbolicLink(roots.resolve("link"), outside);
    refusal(policy(roots), link.toString());
    refusal(policy(roots), roots + "/../outside");
  }

  @Test
  void neverUnderTheWorkDirNorAFolderHoldingIt() throws IOException {
    Path socketDir = Files.createDirectories(work.resolve("d1r0a0"));
    refusal(policy(dir), socketDir.toString());
    refusal(policy(dir), dir.toString()); // holds the work dir
    refusal(policy(dir), "/");
    assertEquals(home.toRealPath(), policy(dir).check(home.toString()));
  }

  @Test
  void relativeAndInvalidPathsAreRefused() {
    refusal(policy(roots), "homes/model");
    refusal(policy(roots), "bad\0path");
    refusal(policy(roots), "");
  }
}
