package io.pyml.gateway.frontend.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pyml.gateway.Gateway;
import io.pyml.gateway.sidecar.SocketDirs;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestConfigs;
import io.pyml.proto.v1.DeployRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * KServe V2 REST on a real gateway with fake runtimes: what is not inference itself (metadata,
 * readiness, limits, errors). ConformanceTest covers inference's errors; tests/oip a real model.
 */
class HttpFrontEndTest {
  static final int LIMIT = 4096;
  static final FakeLauncher LAUNCHER = new FakeLauncher()
      .model("loading", FakeModel.dataframe().loadingFor(Duration.ofMinutes(10)));
  static final HttpClient HTTP = HttpClient.newHttpClient();

  static Path work;
  static Gateway gateway;

  @BeforeAll
  static void start() throws Exception {
    work = Files.createTempDirectory(Path.of("/tmp"), "pyml-http-");
    Path home = Files.createDirectories(work.resolve("home"));
    gateway = Gateway.start(TestConfigs.ephemeral(work.resolve("w"))
        .withMaxPayloadBytes(LIMIT)
        .withDeployTimeout(Duration.ofMinutes(15)), LAUNCHER);
    try (TestClient grpc = new TestClient(gateway.grpcPort())) {
      grpc.deploy("steady", 3, home);
      grpc.admin.deploy(DeployRequest.newBuilder().setModelName("loading").setModelVersion(1)
          .setHomePath(home.toString()).build()); // not waited for: it stays loading
    }
  }

  @AfterAll
  static void stop() {
    gateway.close();
    SocketDirs.deleteRecursively(work);
  }

  static HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(uri(path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static HttpResponse<String> post(String path, String body, String... headers)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(path))
        .POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) {
      request.headers(headers);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + gateway.httpPort() + path);
  }

  /** The status, the pyml-error header and the error's words. */
  static String error(HttpResponse<String> response) throws Exception {
    assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""));
    return response.statusCode() + " " + response.headers().firstValue("pyml-error")
        .orElse("(none)") + " " + new ObjectMapper().readTree(response.body()).get("error")
        .asText();
  }

  @Test
  void metadataDescribesTheLiveVersionsTensors() throws Exception {
    for (String path : new String[] {"/v2/models/steady", "/v2/models/steady/versions/3"}) {
      HttpResponse<String> response = get(path);
      assertEquals(200, response.statusCode(), response.body());
      JsonNode json = new ObjectMapper().readTree(response.body());
      assertEquals("steady", json.get("name").asText());
      assertEquals("[\"3\"]", json.get("versions").toString());
      assertEquals("pyml_dataframe", json.get("platform").asText());
      assertEquals("[{\"name\":\"x\",\"datatype\":\"FP64\",\"shape\":[-1]}]",
          json.get("inputs").toString());
    }
    assertEquals("404 NOT_FOUND model 'nope' is not deployed", error(get("/v2/models/nope")));
    assertEquals("404 NOT_FOUND model 'steady' version 9 is not deployed (live version: 3)",
        error(get("/v2/models/steady/versions/9")));
    assertEquals("400 INVALID_INPUT model 'steady': version 'x' (expected: a version number,"
        + " or empty for the live version)", error(get("/v2/models/steady/versions/x")));
  }

  @Test
  void readinessIs200Or4xxAsV2Says() throws Exception {
    HttpResponse<String> ready = get("/v2/models/steady/ready");
    assertEquals(200, ready.statusCode());
    assertEquals("{\"name\":\"steady\",\"ready\":true}", ready.body());
    assertEquals(200, get("/v2/models/steady/versions/3/ready").statusCode());
    assertTrue(error(get("/v2/models/loading/ready")).startsWith(
        "400 UNAVAILABLE model 'loading' is not ready: "));
    assertEquals("404 NOT_FOUND model 'nope' is not deployed",
        error(get("/v2/models/nope/ready")));
    assertEquals(200, get("/v2/health/live").statusCode());
    assertEquals(400, get("/v2/health/ready").statusCode(), "'loading' is not ready");
    assertEquals("pyml-gateway", new ObjectMapper().readTree(get("/v2").body()).get("name")
        .asText());
  }

  @Test
  void wrongMethodsAndUnknownPathsAreNamed() throws Exception {
    HttpResponse<String> getInfer = get("/v2/models/steady/infer");
    assertEquals(405, getInfer.statusCode());
    assertEquals("POST", getInfer.headers().firstValue("Allow").orElse(""));
    assertEquals("404 NOT_FOUND no V2 endpoint /v2/modelz", error(get("/v2/modelz")));
    assertEquals(404, get("/nothing-here").statusCode());
    assertTrue(get("/v2/models/steady").headers().firstValue("Server").isEmpty());
  }

  @Test
  void badRequestsAreRefusedWithTheModelAndWhatWasExpected() throws Exception {
    assertTrue(error(post("/v2/models/steady/infer", "{\"inputs\": [")).startsWith(
        "400 INVALID_INPUT model 'steady': the request body is not valid V2 JSON: "));
    assertEquals("400 INVALID_INPUT model 'steady': header pyml-timeout-ms is 'soon' (expected:"
        + " a number of milliseconds above 0)", error(post("/v2/models/steady/infer", "{}",
        "pyml-timeout-ms", "soon")));
    // Declared tensors over the payload limit: refused before their data is read.
    assertEquals("413 RESOURCE_EXHAUSTED payload of at least 8000 bytes for model 'steady' is"
        + " over the gateway's limit of 4096 bytes", error(post("/v2/models/steady/infer",
        "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP64\", \"shape\": [1000],"
        + " \"data\": []}]}")));
  }

  @Test
  void aBodyOverTheLimitIsRefusedByItsLengthBeforeItIsSent() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", gateway.httpPort())) {
      socket.setSoTimeout(5_000);
      socket.getOutputStream().write(("POST /v2/models/steady/infer HTTP/1.1\r\nHost: x\r\n"
          + "Content-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String answer = readAnswer(socket.getInputStream());
      assertTrue(answer.startsWith("HTTP/1.1 413 "), answer);
      assertTrue(answer.contains("pyml-error: RESOURCE_EXHAUSTED"), answer);
      assertTrue(answer.contains("{\"error\":\"request body of 1000000000 bytes is over the"
          + " limit of " + (LIMIT + 64 * 1024) + " bytes\"}"), answer);
    }
  }

  /**
   * A client sends its whole body before it reads. Refused unread, the body was left on the
   * connection and Jetty closed it: the 413 could be lost, and a request sent next on the
   * connection found no answer (GatewayConsoleTest, one fresh-clone run in three).
   */
  @Test
  void aBodyOverTheLimitButUnderTheDrainCapIsReadThenRefusedOnAConnectionThatStaysOpen()
      throws Exception {
    int size = LIMIT + 64 * 1024 + 10_000;
    try (Socket socket = new Socket("127.0.0.1", gateway.httpPort())) {
      socket.setSoTimeout(5_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /v2/models/steady/infer HTTP/1.1\r\nHost: x\r\n"
          + "Content-Type: application/json\r\nContent-Length: " + size + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      Thread.sleep(300); // the body comes after the server has seen the headers
      out.write(" ".repeat(size).getBytes(StandardCharsets.US_ASCII));
      String answer = readAnswer(socket.getInputStream());
      assertTrue(answer.startsWith("HTTP/1.1 413 "), answer);
      assertTrue(answer.contains("is over the limit of " + (LIMIT + 64 * 1024) + " bytes"),
          answer);
      assertFalse(answer.toLowerCase(Locale.ROOT).contains("connection: close"),
          answer);

      out.write(("GET /v2/models/nope/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      String next = readAnswer(socket.getInputStream());
      assertTrue(next.startsWith("HTTP/1.1 404 "), "the next request on the connection: " + next);
    }
  }

  @Test
  void aChunkedBodyIsRefusedOnceItPassesTheLimit() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", gateway.httpPort())) {
      socket.setSoTimeout(5_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /v2/models/steady/infer HTTP/1.1\r\nHost: x\r\n"
          + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      byte[] chunk = ("400\r\n" + " ".repeat(1024) + "\r\n").getBytes(StandardCharsets.US_ASCII);
      try {
        for (int i = 0; i < 2 * (LIMIT + 64 * 1024) / 1024; i++) { // bounded: twice the limit
          out.write(chunk);
        }
      } catch (IOException e) {
        // the server may close its side once it has answered
      }
      String answer = readAnswer(socket.getInputStream());
      assertTrue(answer.startsWith("HTTP/1.1 413 "), answer);
      assertTrue(answer.contains("is over the limit of " + (LIMIT + 64 * 1024) + " bytes"),
          answer);
    }
  }

  @Test
  void halfSentBodiesHoldNoThread() throws Exception {
    List<Socket> stalled = new ArrayList<>();
    try {
      // Twice the port's threads, each waiting for a body that never comes (for the port's
      // 30 s read timeout): a server that read bodies on its threads would answer nothing else.
      for (int i = 0; i < 16; i++) {
        Socket socket = new Socket("127.0.0.1", gateway.httpPort());
        socket.getOutputStream().write(("POST /v2/models/steady/infer HTTP/1.1\r\nHost: x\r\n"
            + "Content-Length: 1000\r\n\r\n{\"inputs\": [").getBytes(StandardCharsets.US_ASCII));
        stalled.add(socket);
      }
      HttpRequest scrape = HttpRequest.newBuilder(uri("/metrics"))
          .timeout(Duration.ofSeconds(10)).build();
      assertEquals(200, HTTP.send(scrape, HttpResponse.BodyHandlers.ofString()).statusCode());
      assertEquals(200, get("/v2/models/steady/ready").statusCode());
    } finally {
      for (Socket socket : stalled) {
        socket.close();
      }
    }
  }

  /** What the server sent until it closed or went quiet (bounded by the socket's timeout). */
  static String readAnswer(InputStream in) throws IOException {
    StringBuilder answer = new StringBuilder();
    byte[] buffer = new byte[4096];
    try {
      int read;
      while ((read = in.read(buffer)) > 0 && answer.length() < 65_536) {
        answer.append(new String(buffer, 0, read, StandardCharsets.UTF_8));
        if (answer.toString().contains("\"}")) {
          break; // the whole JSON error
        }
      }
    } catch (IOException e) {
      // reset or timed out: what arrived is the answer
    }
    return answer.toString();
  }
}
