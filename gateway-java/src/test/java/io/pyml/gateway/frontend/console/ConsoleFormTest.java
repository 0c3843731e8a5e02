package io.pyml.gateway.frontend.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyml.gateway.identity.Permission;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConsoleFormTest {
  private static ConsoleForm form(String body) {
    return ConsoleForm.parse(body.getBytes(StandardCharsets.UTF_8));
  }

  private static String refusal(Runnable read) {
    return assertThrows(ConsoleForm.Invalid.class, read::run).getMessage();
  }

  @Test
  void fieldsAreDecodedAndTheFirstOfARepeatedFieldWins() {
    ConsoleForm form = form("identity=b%C3%B6b+smith&permission=deploy&version=12&identity=eve");
    assertEquals("böb smith", form.name("identity"));
    assertEquals(Permission.DEPLOY, form.permission("permission"));
    assertEquals(12, form.version("version"));
    assertEquals("", form.raw("csrf"));
  }

  @Test
  void namesAreOneTo256PrintableCharacters() {
    assertTrue(refusal(() -> form("identity=").name("identity")).contains("got nothing"));
    assertTrue(refusal(() -> form("identity=a%0Ab").name("identity"))
        .contains("identity must be 1 to 256 printable characters"));
    refusal(() -> form("identity=" + "a".repeat(257)).name("identity"));
    refusal(() -> form("identity=a%E2%80%AEb").name("identity")); // a bidi override
    assertEquals("a".repeat(256), form("identity=" + "a".repeat(256)).name("identity"));
  }

  @Test
  void permissionsAndVersionsAreChecked() {
    assertTrue(refusal(() -> form("permission=root").permission("permission"))
        .contains("predict, deploy or admin (got 'root')"));
    for (String bad : new String[] {"0", "-1", "1.5", "abc", "", "99999999999999999999"}) {
      assertTrue(refusal(() -> form("version=" + bad).version("version"))
          .contains("version must be a version number of 1 or more"), bad);
    }
  }

  @Test
  void malformedEncodingIsAClearRefusal() {
    assertEquals("the form is not valid URL-encoded UTF-8",
        refusal(() -> form("identity=%C3%28")));
  }

  @Test
  void modelPathsAreDecodedAndAnythingElseIsNone() {
    assertEquals("a b", ConsoleRoutes.modelPath("/models/a%20b").orElseThrow()[0]);
    assertEquals("grant", ConsoleRoutes.modelPath("/models/m/grant").orElseThrow()[1]);
    assertEquals(Optional.empty(), ConsoleRoutes.modelPath("/models/"));
    assertEquals(Optional.empty(), ConsoleRoutes.modelPath("/models/m/a/b"));
    assertEquals(Optional.empty(), ConsoleRoutes.modelPath("/deployments/m"));
  }
}
