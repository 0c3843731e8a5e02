package io.pyml.gateway;

import static io.pyml.gateway.testing.TestClient.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.pyml.gateway.config.AccessLogSettings;
import io.pyml.gateway.deployment.AdmissionLimits;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.FakeSidecar;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestConfigs;
import io.pyml.gateway.testing.TestGateway;
import io.pyml.proto.v1.DeploymentState;
import io.pyml.proto.v1.PredictResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What an operator reads: the access log (plain lines in a file here) and the metrics of
 * deploys, restarts and admission beside the predict metrics, on the real wiring with fake
 * runtimes over Unix sockets. Admission: two calls per runtime, one waiting call per model.
 */
class GatewayObservabilityTest {
  static final FakeLauncher LAUNCHER = new FakeLauncher()
      .model("bad-validation", FakeModel.dataframe().failingValidation());
  static final AdmissionLimits LIMITS =
      new AdmissionLimits(2, 8, 1, 1024 * 1024, Duration.ofMillis(300));
  static TestGateway running;
  static Path home;
  static Path accessLog;
  static TestClient client;

  @BeforeAll
  static void start() throws Exception {
    // Beside the gateway's work folder: in the test's folder, which close() removes.
    running = TestGateway.start("pyml-obs-", config -> config.withAdmission(LIMITS)
        .withAccessLog(new AccessLogSettings(config.workDir().orElseThrow()
            .resolveSibling("access.log").toString(), false, 1.0)), LAUNCHER);
    client = running.client();
    home = running.home();
    accessLog = running.work().resolve("access.log");
  }

  @AfterAll
  static void stop() {
    running.close();
  }

  @Test
  void theAccessLogHasOneLinePerCallOkOrFailed() throws Exception {
    client.deploy("logged", 4, home);
    client.predict(request("logged", "hello").toBuilder().setRequestId("req-ok").build());
    client.predictFails(request("logged", FakeModel.BOOM).toBuilder()
        .setRequestId("req-boom").build());
    client.predictFails(request("never deployed", "x").toBuilder()
        .setRequestId("req-missing").build());

    String ok = awaitLine("request_id=req-ok");
    assertTrue(ok.matches("time=\\d{4}-\\d\\d-\\d\\dT\\S+Z protocol=grpc model=logged version=4"
        + " status=OK latency_ms=\\d+\\.\\d{3} bytes_in=5 bytes_out=5 caller=local"
        + " request_id=req-ok"), ok);
    String boom = awaitLine("request_id=req-boom");
    assertTrue(boom.contains(" protocol=grpc model=logged version=4 status=MODEL_ERROR "), boom);
    assertTrue(boom.contains(" bytes_in=" + FakeModel.BOOM.length() + " bytes_out=0 "), boom);
    // A name with a space is quoted, so the line still splits into its fields.
    String missing = awaitLine("request_id=req-missing");
    assertTrue(missing.contains(" model=\"never deployed\" version=- status=NOT_FOUND "),
        missing);
  }

  @Test
  void anAccessLogThatCannotBeOpenedStopsStartUpNamingTheSetting() throws Exception {
    Path other = running.work().resolve("other");
    IOException error = assertThrows(IOException.class, () -> Gateway.start(
        TestConfigs.ephemeral(other.resolve("w")).withAccessLog(new AccessLogSettings(
            other.resolve("missing-folder/access.log").toString(), false, 1.0)), LAUNCHER));
    assertTrue(error.getMessage().startsWith("cannot open the access log ")
        && error.getMessage().contains("(--access-log)"), error.getMessage());
  }

  @Test
  void deploysAreCountedByOutcome() throws Exception {
    assertEquals(DeploymentState.DEPLOYMENT_STATE_READY,
        client.deploy("counted", 1, home).getState());
    assertEquals(DeploymentState.DEPLOYMENT_STATE_FAILED,
        client.deploy("bad-validation", 1, home).getState());
    String text = scrape();
    assertEquals(1, metric(text, "pyml_deploys_total{model=\"counted\",outcome=\"READY\"}"));
    assertEquals(1,
        metric(text, "pyml_deploys_total{model=\"bad-validation\",outcome=\"FAILED\"}"));
  }

  @Test
  void restartsAreCounted() throws Exception {
    client.deploy("dying", 1, home);
    assertEquals(0, metric(scrape(), "pyml_runtime_restarts_total{model=\"dying\"}"));
    LAUNCHER.latest("dying", 1).die(137);
    client.await("dying", d -> d.getState() == DeploymentState.DEPLOYMENT_STATE_READY
        && d.getRestarts() > 0, Duration.ofSeconds(20));
    assertEquals(1, metric(scrape(), "pyml_runtime_restarts_total{model=\"dying\"}"));
  }

  @Test
  void theAdmissionQueueLengthAndItsRefusalsAreMeasured() throws Exception {
    client.deploy("busy", 1, home);
    FakeSidecar sidecar = LAUNCHER.latest("busy", 1);
    List<CompletableFuture<PredictResponse>> held = List.of(
        CompletableFuture.supplyAsync(() -> client.predict(request("busy", FakeModel.HOLD))),
        CompletableFuture.supplyAsync(() -> client.predict(request("busy", FakeModel.HOLD))));
    awaitReceived(sidecar, 3); // the validation call, then both held calls
    CompletableFuture<PredictResponse> queued =
        CompletableFuture.supplyAsync(() -> client.predict(request("busy", "queued")));
    try {
      awaitMetric("pyml_admission_queue_length{model=\"busy\"}", 1);
      assertEquals(0, metric(scrape(), "pyml_admission_rejections_total{model=\"busy\"}"));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED,
          client.predictFails(request("busy", "refused")).getStatus().getCode());
      String text = scrape();
      assertEquals(1, metric(text, "pyml_admission_rejections_total{model=\"busy\"}"));
      assertEquals(3, metric(text, "pyml_predict_in_flight{model=\"busy\"}"));
    } finally {
      sidecar.runtime().release.complete(null);
    }
    for (CompletableFuture<PredictResponse> call : held) {
      call.get(10, TimeUnit.SECONDS);
    }
    queued.get(10, TimeUnit.SECONDS);
    assertEquals(0, metric(scrape(), "pyml_admission_queue_length{model=\"busy\"}"));
  }

  @Test
  void theExampleDashboardUsesOnlyMetricsTheGatewayServes() throws Exception {
    client.deploy("charted", 1, home);
    client.predict(request("charted", "x"));
    String dashboard = Files.readString(Path.of("..", "docs", "grafana", "pyml-gateway.json"));
    String text = scrape();
    Matcher names = Pattern.compile("pyml_[a-z_]+").matcher(dashboard);
    int found = 0;
    while (names.find()) {
      String family = names.group().replaceAll("_(bucket|sum|count)$", "");
      assertTrue(text.contains("# TYPE " + family + " "), family + " is not served:\n" + text);
      found++;
    }
    assertTrue(found >= 10, "the dashboard charts " + found + " series");
  }

  /** The access log's line holding {@code text}, waiting (bounded) for the writer. */
  private static String awaitLine(String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      List<String> lines = Files.exists(accessLog) ? Files.readAllLines(accessLog) : List.of();
      for (String line : lines) {
        if (line.contains(text)) {
          return line;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no line with " + text + " in\n" + String.join("\n", lines));
      }
      Thread.sleep(20);
    }
  }

  private static void awaitReceived(FakeSidecar sidecar, int calls) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (sidecar.runtime().received.size() < calls && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(calls, sidecar.runtime().received.size());
  }

  private static void awaitMetric(String series, double value) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    String text = scrape();
    while (metric(text, series) != value && System.nanoTime() < deadline) {
      Thread.sleep(20);
      text = scrape();
    }
    assertEquals(value, metric(text, series), text);
  }

  static String scrape() throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + running.gateway().httpPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode());
    return response.body();
  }

  /** The value of one sample line; fails when the series is missing. */
  static double metric(String text, String series) {
    return text.lines().filter(line -> line.startsWith(series + " ")).findFirst()
        .map(line -> Double.parseDouble(line.substring(series.length() + 1)))
        .orElseThrow(() -> new AssertionError("no " + series + " in\n" + text));
  }
}
