package io.pyml.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyml.gateway.sidecar.SocketDirs;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestConfigs;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The console over real HTTP in one gateway (fake runtimes): open without identities, then
 * sign-in, session cookies, CSRF and Origin checks, bounded forms, and refusals that come
 * from the data plane itself.
 */
class GatewayConsoleTest {
  private static final Pattern CSRF = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"");
  Path work;
  Gateway gateway;
  final HttpClient http = HttpClient.newHttpClient(); // no cookie store: cookies by hand

  @BeforeEach
  void start() throws Exception {
    work = Files.createTempDirectory(Path.of("/tmp"), "pyml-console-");
    gateway = Gateway.start(TestConfigs.ephemeral(work.resolve("w")), new FakeLauncher());
  }

  @AfterEach
  void stop() {
    gateway.close();
    SocketDirs.deleteRecursively(work);
  }

  HttpResponse<String> get(String path, String cookie) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(url(path));
    if (!cookie.isEmpty()) {
      request.header("Cookie", cookie);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> post(String path, String cookie, String form, String origin)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(url(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .POST(HttpRequest.BodyPublishers.ofString(form));
    if (!cookie.isEmpty()) {
      request.header("Cookie", cookie);
    }
    if (!origin.isEmpty()) {
      request.header("Origin", origin);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  URI url(String path) {
    return URI.create("http://127.0.0.1:" + gateway.httpPort() + path);
  }

  /** The session cookie a response set, as a Cookie header value. */
  static String cookieOf(HttpResponse<String> response) {
    String set = response.headers().firstValue("Set-Cookie").orElseThrow();
    assertTrue(set.contains("HttpOnly") && set.contains("SameSite=Strict")
        && set.contains("Path=/"), set);
    return set.substring(0, set.indexOf(';'));
  }

  static String csrfOf(String html) {
    Matcher m = CSRF.matcher(html);
    assertTrue(m.find(), html);
    return m.group(1);
  }

  String signIn(String token) throws Exception {
    HttpResponse<String> signedIn = post("/console/signin", "",
        "token=" + URLEncoder.encode(token, StandardCharsets.UTF_8), "");
    assertEquals(303, signedIn.statusCode(), signedIn.body());
    return cookieOf(signedIn);
  }

  @Test
  void withoutIdentitiesTheConsoleIsOpenAndSaysSo() throws Exception {
    HttpResponse<String> page = get("/console/models", "");
    assertEquals(200, page.statusCode());
    assertTrue(page.body().contains("No identities configured"), page.body());
    assertTrue(page.headers().firstValue("Content-Security-Policy").orElseThrow()
        .contains("default-src 'self'"));
    cookieOf(page);
    assertEquals(303, get("/", "").statusCode());
    assertEquals(200, get("/console/static/console.css", "").statusCode());
  }

  @Test
  void signInSessionsCsrfAndRefusalsFromTheDataPlane() throws Exception {
    String root;
    String bob;
    try (TestClient anyone = new TestClient(gateway.grpcPort(), "")) {
      root = anyone.createToken("root", true);
    }
    try (TestClient admin = new TestClient(gateway.grpcPort(), root)) {
      bob = admin.createToken("bob", false);
    }
    HttpResponse<String> anonymous = get("/console/models", "");
    assertEquals(303, anonymous.statusCode());
    assertTrue(anonymous.headers().firstValue("Location").orElseThrow()
        .endsWith("/console/signin"));
    HttpResponse<String> forged = post("/console/signin", "", "token=pyml_forged", "");
    assertEquals(401, forged.statusCode());
    assertTrue(forged.body().contains("unknown, revoked or expired"), forged.body());

    String session = signIn(root);
    HttpResponse<String> models = get("/console/models", session);
    assertTrue(models.body().contains("Signed in as <strong>root</strong>"), models.body());
    String csrf = csrfOf(models.body());

    String grant = "identity=bob&permission=predict&csrf=";
    assertEquals(403, post("/console/models/m/grant", session, grant + "wrong", "")
        .statusCode());
    assertEquals(403, post("/console/models/m/grant", session, grant + csrf,
        "http://evil.example").statusCode());
    // On the shared client: a refused body is read and dropped, so its connection stays
    // usable for the POST that follows (refused unread, that POST once found no answer).
    HttpResponse<String> tooLarge = post("/console/models/m/grant", session,
        "x=" + "a".repeat(20_000), "");
    assertEquals(413, tooLarge.statusCode());
    HttpResponse<String> badPermission = post("/console/models/m/grant", session,
        "identity=bob&permission=root&csrf=" + csrf, "");
    assertEquals(400, badPermission.statusCode());
    assertTrue(badPermission.body().contains("permission must be predict, deploy or admin"));
    assertEquals(303, post("/console/models/m/grant", session, grant + csrf, "")
        .statusCode());

    // Bob holds predict on m: his console may not grant on it, the data plane refuses.
    String bobs = signIn(bob);
    String bobsCsrf = csrfOf(get("/console/models", bobs).body());
    HttpResponse<String> refused = post("/console/models/m/grant", bobs,
        "identity=eve&permission=predict&csrf=" + bobsCsrf, "");
    assertEquals(403, refused.statusCode());
    assertTrue(refused.body().contains("lacks the 'admin' permission"), refused.body());
    // A model he may not see and one that does not exist read the same.
    String unseen = get("/console/models/secret", bobs).body();
    assertTrue(unseen.contains("No model 'secret' that you may see."), unseen);
    assertFalse(get("/console/audit", bobs).body().contains("create-token"));

    assertEquals(303, post("/console/signout", bobs, "csrf=" + bobsCsrf, "").statusCode());
    assertEquals(303, get("/console/models", bobs).statusCode());
    assertEquals(200, get("/console/models", session).statusCode());
  }
}
