package io.pyml.gateway;

import static io.pyml.gateway.testing.TestClient.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.FakeSidecar;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestGateway;
import io.pyml.proto.v1.Deployment;
import io.pyml.proto.v1.DeploymentState;
import io.pyml.proto.v1.ListDeploymentsRequest;
import io.pyml.proto.v1.PayloadKind;
import io.pyml.proto.v1.PredictResponse;
import io.pyml.proto.v1.UndeployRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real wiring ({@link Gateway#start}, as Main uses it) on an ephemeral port, with runtimes
 * that are fake but served over real Unix sockets. A model "steady" is deployed once; after
 * every test it must still answer, whatever happened to the other models.
 */
class GatewayWiringTest {
  static final int LIMIT = 4096;
  static final FakeLauncher LAUNCHER = new FakeLauncher()
      .model("tensor-model", FakeModel.tensors());

  static TestGateway running;
  static Path home;
  static Gateway gateway;
  static TestClient client;

  @BeforeAll
  static void start() throws Exception {
    running = TestGateway.start("pyml-gwt-",
        config -> config.withMaxPayloadBytes(LIMIT)
            .withDeployTimeout(Duration.ofSeconds(30)), LAUNCHER);
    gateway = running.gateway();
    client = running.client();
    home = running.home();
    assertEquals(DeploymentState.DEPLOYMENT_STATE_READY,
        client.deploy("steady", 1, home).getState());
  }

  @AfterAll
  static void stop() {
    running.close();
  }

  @AfterEach
  void steadyStillServes() {
    PredictResponse response = client.predict(request("steady", "still here"));
    assertEquals("ereh llits", response.getPayload().getArrowIpc().toStringUtf8());
  }

  @Test
  void deployedModelForwardsBytesUnchangedAndEchoesTheRequestId() {
    Deployment deployment = client.deploy("echo", 7, home);
    assertEquals(DeploymentState.DEPLOYMENT_STATE_READY, deployment.getState());
    assertEquals(PayloadKind.PAYLOAD_KIND_DATAFRAME, deployment.getKind());
    assertEquals(home.toString(), deployment.getHomePath());
    assertEquals("", deployment.getReason());

    byte[] bytes = new byte[LIMIT];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (i * 7 + 3);
    }
    ByteString sent = ByteString.copyFrom(bytes);
    PredictResponse response = client.predict(request("echo", PayloadKind.PAYLOAD_KIND_DATAFRAME,
        sent).toBuilder().setRequestId("req-1").build());
    FakeSidecar sidecar = LAUNCHER.latest("echo", 7);
    assertEquals(sent, sidecar.runtime().received.get(sidecar.runtime().received.size() - 1));
    assertEquals(bytes[bytes.length - 1], response.getPayload().getArrowIpc().byteAt(0));
    assertEquals("echo", response.getModelName());
    assertEquals(7, response.getModelVersion());
    assertEquals("req-1", response.getRequestId());

    String madeUp = client.predict(request("echo", "x")).getRequestId();
    assertEquals(madeUp, UUID.fromString(madeUp).toString());
    assertEquals("ohce", client.predict(request("echo", "echo").toBuilder()
        .setModelVersion(7).build()).getPayload().getArrowIpc().toStringUtf8());
  }

  @Test
  void prometheusMetricsCountCallsByOutcomeWithLatencyInFlightAndReplicas() throws Exception {
    client.predict(request("steady", "counted"));
    client.predictFails(request("never-deployed", "x"));
    client.predictFails(request("steady", FakeModel.BOOM));

    HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + gateway.httpPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode());
    assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
    String text = response.body();
    assertTrue(text.contains("# TYPE pyml_predict_requests_total counter"), text);
    assertTrue(metric(text, "pyml_predict_requests_total{model=\"steady\",outcome=\"OK\"}") >= 1,
        text);
    assertTrue(metric(text,
        "pyml_predict_requests_total{model=\"steady\",outcome=\"MODEL_ERROR\"}") >= 1, text);
    assertTrue(metric(text,
        "pyml_predict_requests_total{model=\"(unknown)\",outcome=\"NOT_FOUND\"}") >= 1, text);
    assertEquals(metric(text, "pyml_predict_latency_seconds_count{model=\"steady\"}"),
        metric(text, "pyml_predict_latency_seconds_bucket{model=\"steady\",le=\"+Inf\"}"));
    assertEquals(0, metric(text, "pyml_predict_in_flight{model=\"steady\"}"));
    assertEquals(1, metric(text, "pyml_ready_replicas{model=\"steady\"}"));
    assertEquals(0, metric(text, "pyml_runtime_restarts_total{model=\"steady\"}"));
  }

  /** The value of one sample line; fails when the series is missing. */
  private static double metric(String text, String series) {
    return text.lines().filter(line -> line.startsWith(series + " ")).findFirst()
        .map(line -> Double.parseDouble(line.substring(series.length() + 1)))
        .orElseThrow(() -> new AssertionError("no " + series + " in\n" + text));
  }

  @Test
  void unknownModelsAndVersionsAreNotFound() {
    StatusRuntimeException error = client.predictFails(request("nope", "x"));
    assertEquals(Status.Code.NOT_FOUND, error.getStatus().getCode());
    assertEquals("model 'nope' is not deployed", error.getStatus().getDescription());

    error = client.predictFails(request("steady", "x").toBuilder().setModelVersion(2).build());
    assertEquals(Status.Code.NOT_FOUND, error.getStatus().getCode());
    assertEquals("model 'steady' version 2 is not deployed (live version: 1)",
        error.getStatus().getDescription());

    error = assertThrows(StatusRuntimeException.class, () -> client.admin.undeploy(
        UndeployRequest.newBuilder().setModelName("nope").build()));
    assertEquals(Status.Code.NOT_FOUND, error.getStatus().getCode());
    error = assertThrows(StatusRuntimeException.class, () -> client.get("nope"));
    assertEquals(Status.Code.NOT_FOUND, error.getStatus().getCode());
  }

  @Test
  void aPayloadOfTheWrongKindIsInvalidArgument() {
    assertEquals(PayloadKind.PAYLOAD_KIND_TENSORS,
        client.deploy("tensor-model", 1, home).getKind());
    StatusRuntimeException error = client.predictFails(request("tensor-model", "x"));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
    assertEquals("model 'tensor-model' takes a TENSORS payload, got DATAFRAME",
        error.getStatus().getDescription());
    assertEquals("x", client.predict(request("tensor-model", PayloadKind.PAYLOAD_KIND_TENSORS,
        ByteString.copyFromUtf8("x"))).getPayload().getArrowIpc().toStringUtf8());
  }

  @Test
  void aPayloadOverTheLimitIsResourceExhausted() {
    int before = LAUNCHER.latest("steady", 1).runtime().received.size();
    StatusRuntimeException error = client.predictFails(request("steady",
        PayloadKind.PAYLOAD_KIND_DATAFRAME, ByteString.copyFrom(new byte[LIMIT + 1])));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, error.getStatus().getCode());
    assertEquals(
        "payload of 4097 bytes for model 'steady' is over the gateway's limit of 4096 bytes",
        error.getStatus().getDescription());
    // Far over: gRPC's own inbound limit answers before the message is handled.
    error = client.predictFails(request("steady", PayloadKind.PAYLOAD_KIND_DATAFRAME,
        ByteString.copyFrom(new byte[LIMIT + Gateway.ENVELOPE_MARGIN_BYTES + 1])));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, error.getStatus().getCode());
    assertEquals(before, LAUNCHER.latest("steady", 1).runtime().received.size(),
        "nothing reached the runtime");
  }

  @Test
  void theRuntimesOwnErrorsPassThroughWithTheirTrailers() {
    StatusRuntimeException error = client.predictFails(request("steady", FakeModel.BOOM));
    assertEquals(Status.Code.INTERNAL, error.getStatus().getCode());
    assertEquals("model 'steady' raised ValueError: boom", error.getStatus().getDescription());
    Metadata trailers = error.getTrailers();
    assertEquals("MODEL_ERROR", trailers.get(key("pyml-error")));
    assertEquals("ValueError", trailers.get(key("pyml-exception-type")));

    error = client.predictFails(request("steady", FakeModel.BAD_COLUMN));
    assertEquals(Status.Code.INVALID_ARGUMENT, error.getStatus().getCode());
    assertEquals("column 'age': int64 (expected: float64)", error.getStatus().getDescription());
    assertEquals("INVALID_INPUT", error.getTrailers().get(key("pyml-error")));
  }

  private static Metadata.Key<String> key(String name) {
    return Metadata.Key.of(name, Metadata.ASCII_STRING_MARSHALLER);
  }

  @Test
  void theGatewayReportsItsOwnHealth() {
    HealthCheckResponse health = HealthGrpc.newBlockingStub(client.channel)
        .check(HealthCheckRequest.newBuilder().setService("").build());
    assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
  }

  @Test
  void undeployStopsTheRuntimeAndForgetsTheModel() {
    client.deploy("short-lived", 1, home);
    assertTrue(client.admin.listDeployments(ListDeploymentsRequest.getDefaultInstance())
        .getDeploymentsList().stream().anyMatch(d -> d.getModelName().equals("short-lived")));
    client.admin.undeploy(UndeployRequest.newBuilder().setModelName("short-lived").build());
    assertTrue(LAUNCHER.latest("short-lived", 1).stopped());
    assertEquals(Status.Code.NOT_FOUND,
        client.predictFails(request("short-lived", "x")).getStatus().getCode());
    assertFalse(client.admin.listDeployments(ListDeploymentsRequest.getDefaultInstance())
        .getDeploymentsList().stream().anyMatch(d -> d.getModelName().equals("short-lived")));
  }
}
