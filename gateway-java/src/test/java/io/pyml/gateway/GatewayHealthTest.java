package io.pyml.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.pyml.gateway.sidecar.SocketDirs;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestConfigs;
import io.pyml.oip.v2.GRPCInferenceServiceGrpc;
import io.pyml.oip.v2.ModelReadyRequest;
import io.pyml.oip.v2.ServerLiveRequest;
import io.pyml.oip.v2.ServerReadyRequest;
import io.pyml.proto.v1.DeployRequest;
import io.pyml.proto.v1.DeploymentState;
import io.pyml.proto.v1.UndeployRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * /livez and /readyz, the grpc.health.v1 service on the gRPC and OIP ports and OIP's
 * ServerReady/ModelReady: one readiness, followed through a deploy and a crash.
 */
class GatewayHealthTest {
  /** Long enough to be seen loading; the test waits for it once. */
  static final Duration SLOW_LOAD = Duration.ofSeconds(3);
  static final FakeLauncher LAUNCHER = new FakeLauncher()
      .model("slow", FakeModel.dataframe().loadingFor(SLOW_LOAD))
      .onRestart("crashy", FakeModel.dataframe().loadingFor(SLOW_LOAD));
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final ObjectMapper JSON = new ObjectMapper();

  Path work;
  Path home;
  Gateway gateway;
  TestClient client;
  ManagedChannel oipChannel;

  @BeforeEach
  void start() throws Exception {
    work = Files.createTempDirectory(Path.of("/tmp"), "pyml-health-");
    home = Files.createDirectories(work.resolve("home"));
    gateway = Gateway.start(TestConfigs.ephemeral(work.resolve("w"))
        .withDeployTimeout(Duration.ofSeconds(30)), LAUNCHER);
    client = new TestClient(gateway.grpcPort());
    oipChannel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.oipPort()).usePlaintext()
        .build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    oipChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    client.close();
    gateway.close();
    SocketDirs.deleteRecursively(work);
  }

  @Test
  void aGatewayWithNoModelIsLiveAndReadyAndAModelAskedForByNameIsNot() throws Exception {
    assertEquals(200, get("/livez").statusCode());
    HttpResponse<String> ready = get("/readyz");
    assertEquals(200, ready.statusCode(), ready.body());
    assertEquals("{\"ready\":true,\"models\":0,\"notReady\":[]}", ready.body());
    assertEquals(ServingStatus.SERVING, grpcHealth(client.channel, ""));
    assertEquals(ServingStatus.SERVING, grpcHealth(oipChannel, ""));
    assertTrue(oip().serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
    assertTrue(oip().serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
    assertEquals(200, get("/v2/health/ready").statusCode());

    HttpResponse<String> named = get("/readyz?model=nope");
    assertEquals(503, named.statusCode());
    assertEquals("{\"ready\":false,\"models\":1,\"notReady\":[{\"name\":\"nope\",\"version\":0,"
        + "\"state\":\"NOT_DEPLOYED\"}]}", named.body());
    assertEquals(Status.Code.NOT_FOUND, grpcHealthFails(client.channel, "pyml.model/nope"));
    assertEquals(405, HTTP.send(HttpRequest.newBuilder(uri("/readyz"))
        .POST(HttpRequest.BodyPublishers.ofString("")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode());
  }

  @Test
  void notReadyWhileAModelDeploysThenReadyOnEveryPort() throws Exception {
    client.deploy("steady", 1, home);
    client.admin.deploy(DeployRequest.newBuilder().setModelName("slow").setModelVersion(1)
        .setHomePath(home.toString()).build()); // not waited for: it loads for SLOW_LOAD

    HttpResponse<String> loading = get("/readyz");
    assertEquals(503, loading.statusCode(), loading.body());
    JsonNode body = JSON.readTree(loading.body());
    assertEquals(2, body.get("models").asInt());
    assertEquals(1, body.get("notReady").size(), loading.body());
    assertEquals("slow", body.get("notReady").get(0).get("name").asText());
    assertEquals(1, body.get("notReady").get(0).get("version").asLong());
    assertTrue(body.get("notReady").get(0).get("state").asText()
        .matches("PENDING|STARTING|LOADING|VALIDATING"), loading.body());
    // A subset by name: the model that serves is ready on its own.
    assertEquals(200, get("/readyz?model=steady").statusCode());
    assertEquals(503, get("/readyz?model=steady&model=slow").statusCode());
    assertEquals(400, get("/v2/health/ready").statusCode());
    assertFalse(oip().serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
    assertFalse(oip().modelReady(ModelReadyRequest.newBuilder().setName("slow").build())
        .getReady());
    assertTrue(oip().modelReady(ModelReadyRequest.newBuilder().setName("steady").build())
        .getReady());
    for (ManagedChannel port : new ManagedChannel[] {client.channel, oipChannel}) {
      assertEquals(ServingStatus.NOT_SERVING, grpcHealth(port, ""));
      assertEquals(ServingStatus.NOT_SERVING, grpcHealth(port, "pyml.model/slow"));
      assertEquals(ServingStatus.SERVING, grpcHealth(port, "pyml.model/steady"));
    }

    client.awaitState("slow", DeploymentState.DEPLOYMENT_STATE_READY, Duration.ofSeconds(30));
    assertEquals("{\"ready\":true,\"models\":2,\"notReady\":[]}", get("/readyz").body());
    assertTrue(oip().serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
    assertEquals(200, get("/v2/health/ready").statusCode());
    for (ManagedChannel port : new ManagedChannel[] {client.channel, oipChannel}) {
      awaitGrpcHealth(port, "", ServingStatus.SERVING);
      awaitGrpcHealth(port, "pyml.model/slow", ServingStatus.SERVING);
    }

    // Undeployed: no longer part of readiness, and its health service is unknown again.
    client.admin.undeploy(UndeployRequest.newBuilder().setModelName("slow").build());
    assertEquals("{\"ready\":true,\"models\":1,\"notReady\":[]}", get("/readyz").body());
    awaitGrpcHealthGone(client.channel, "pyml.model/slow");
  }

  @Test
  void notReadyAfterARuntimeCrashUntilItIsRestarted() throws Exception {
    client.deploy("crashy", 1, home);
    assertEquals(200, get("/readyz").statusCode());
    awaitGrpcHealth(client.channel, "", ServingStatus.SERVING);

    LAUNCHER.latest("crashy", 1).die(137); // restarted, loading for SLOW_LOAD
    await(() -> status("/readyz") == 503, "/readyz to say 503 after the crash");
    HttpResponse<String> down = get("/readyz");
    assertTrue(down.body().contains("{\"name\":\"crashy\",\"version\":1,\"state\":\"STARTING\"}"),
        down.body());
    for (ManagedChannel port : new ManagedChannel[] {client.channel, oipChannel}) {
      awaitGrpcHealth(port, "", ServingStatus.NOT_SERVING);
      awaitGrpcHealth(port, "pyml.model/crashy", ServingStatus.NOT_SERVING);
    }
    assertFalse(oip().serverReady(ServerReadyRequest.getDefaultInstance()).getReady());

    client.await("crashy", d -> d.getState() == DeploymentState.DEPLOYMENT_STATE_READY
        && d.getRestarts() == 1, Duration.ofSeconds(30));
    assertEquals(200, get("/readyz").statusCode());
    for (ManagedChannel port : new ManagedChannel[] {client.channel, oipChannel}) {
      awaitGrpcHealth(port, "", ServingStatus.SERVING);
      awaitGrpcHealth(port, "pyml.model/crashy", ServingStatus.SERVING);
    }
  }

  private GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub oip() {
    return GRPCInferenceServiceGrpc.newBlockingStub(oipChannel)
        .withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  private static ServingStatus grpcHealth(ManagedChannel channel, String service) {
    return HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
  }

  private static Status.Code grpcHealthFails(ManagedChannel channel, String service) {
    return assertThrows(StatusRuntimeException.class, () -> grpcHealth(channel, service))
        .getStatus().getCode();
  }

  /**
   * The gRPC health service follows state moves just after they are made (an admin read may
   * see a move first): bounded polling.
   */
  private static void awaitGrpcHealth(ManagedChannel channel, String service,
      ServingStatus expected) throws InterruptedException {
    await(() -> grpcHealth(channel, service) == expected, service + " to be " + expected);
  }

  private static void awaitGrpcHealthGone(ManagedChannel channel, String service)
      throws InterruptedException {
    await(() -> {
      try {
        grpcHealth(channel, service);
        return false;
      } catch (StatusRuntimeException e) {
        return e.getStatus().getCode() == Status.Code.NOT_FOUND;
      }
    }, service + " to be unknown");
  }

  private static void await(BooleanSupplier done, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!done.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(25);
    }
    assertTrue(done.getAsBoolean(), "waited 20 s for " + what);
  }

  private int status(String path) {
    try {
      return get(path).statusCode();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(uri(path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + gateway.httpPort() + path);
  }
}
