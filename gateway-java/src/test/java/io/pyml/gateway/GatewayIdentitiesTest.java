package io.pyml.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.pyml.gateway.config.GatewayConfig;
import io.pyml.gateway.sidecar.SocketDirs;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestConfigs;
import io.pyml.proto.v1.AuditEntry;
import io.pyml.proto.v1.CreateTokenRequest;
import io.pyml.proto.v1.DeployRequest;
import io.pyml.proto.v1.GrantInfo;
import io.pyml.proto.v1.ListAuditRequest;
import io.pyml.proto.v1.ListDeploymentsRequest;
import io.pyml.proto.v1.ListGrantsRequest;
import io.pyml.proto.v1.ListTokensRequest;
import io.pyml.proto.v1.RevokeTokenRequest;
import io.pyml.proto.v1.UndeployRequest;
import io.pyml.proto.v1.WhoAmIRequest;
import io.pyml.thrift.v1.ErrorCode;
import io.pyml.thrift.v1.PredictionService;
import io.pyml.thrift.v1.PymlError;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.layered.TFramedTransport;
import org.junit.jupiter.api.function.Executable;

/**
 * Identities end to end in one gateway (fake runtimes): the first token turns authentication
 * on, grants decide who may predict or change a model, home folders are for gateway admins,
 * refusals and admin actions are audited, and all of it survives a restart.
 */
class GatewayIdentitiesTest {
  Path work;
  Path home;
  GatewayConfig config;
  Gateway gateway;

  @BeforeEach
  void start() throws Exception {
    work = Files.createTempDirectory(Path.of("/tmp"), "pyml-ids-");
    home = Files.createDirectories(work.resolve("home"));
    config = TestConfigs.ephemeral(work.resolve("w"));
    gateway = Gateway.start(config, new FakeLauncher());
  }

  @AfterEach
  void stop() {
    gateway.close();
    SocketDirs.deleteRecursively(work);
  }

  TestClient as(String token) {
    return new TestClient(gateway.grpcPort(), token);
  }

  /** The first token, a gateway admin's "root": authentication is on from now. */
  String firstAdmin() {
    try (TestClient local = as("")) {
      return local.createToken("root", true);
    }
  }

  /** A new token of {@code identity} (no grants), made by the admin {@code root}. */
  String tokenFor(String root, String identity) {
    try (TestClient admin = as(root)) {
      return admin.createToken(identity, false);
    }
  }

  static Status.Code code(Executable call) {
    return assertThrows(StatusRuntimeException.class, call).getStatus().getCode();
  }

  static String words(Executable call) {
    return assertThrows(StatusRuntimeException.class, call).getStatus().getDescription();
  }

  @Test
  void theFirstTokenMustBeAnAdminsAndTurnsAuthenticationOn() {
    try (TestClient anyone = as("")) {
      assertFalse(anyone.admin.whoAmI(WhoAmIRequest.getDefaultInstance()).getAuthentication());
      assertEquals(Status.Code.FAILED_PRECONDITION, code(() -> anyone.createToken("bob", false)));
      String root = anyone.createToken("root", true);
      assertEquals(Status.Code.UNAUTHENTICATED, code(() -> anyone.admin.listDeployments(
          ListDeploymentsRequest.getDefaultInstance())));
      try (TestClient admin = as(root)) {
        var me = admin.admin.whoAmI(WhoAmIRequest.getDefaultInstance());
        assertEquals("root", me.getIdentity());
        assertTrue(me.getGatewayAdmin() && me.getAuthentication());
      }
    }
  }

  @Test
  void grantsDecideWhoMayPredictAndChangeAModelAndSurviveARestart() throws Exception {
    String root;
    String alice;
    String bob;
    try (TestClient local = as("")) {
      root = local.createToken("root", true);
    }
    try (TestClient admin = as(root)) {
      alice = admin.createToken("alice", false);
      bob = admin.createToken("bob", false);
      admin.grant("a", "alice", "deploy");
      admin.grant("b", "bob", "predict");
      admin.deploy("b", 1, home);
    }
    try (TestClient asAlice = as(alice); TestClient asBob = as(bob)) {
      // alice may deploy "a" but not from a home folder; she may not touch "b" at all.
      assertEquals("deploying a home folder needs a gateway admin; 'alice' is not one",
          words(() -> asAlice.deploy("a", 1, home)));
      assertEquals("'alice' lacks the 'deploy' permission on model 'b'",
          words(() -> asAlice.admin.undeploy(UndeployRequest.newBuilder().setModelName("b")
              .build())));
      assertEquals(Status.Code.PERMISSION_DENIED, code(() -> asAlice.get("b")));
      assertEquals(List.of(), asAlice.admin.listDeployments(
          ListDeploymentsRequest.getDefaultInstance()).getDeploymentsList());
      // bob sees "b" and may not change it, nor grant on it.
      assertEquals(1, asBob.admin.listDeployments(ListDeploymentsRequest.getDefaultInstance())
          .getDeploymentsCount());
      assertEquals(Status.Code.PERMISSION_DENIED, code(() -> asBob.deploy("b", 2, home)));
      assertEquals(Status.Code.PERMISSION_DENIED, code(() -> asBob.grant("b", "bob", "admin")));
      assertEquals(Status.Code.PERMISSION_DENIED, code(() -> asBob.createToken("eve", true)));
    }

    gateway.close();
    gateway = Gateway.start(config, new FakeLauncher());

    try (TestClient asAlice = as(alice); TestClient asBob = as(bob); TestClient admin = as(root)) {
      assertEquals("alice", asAlice.admin.whoAmI(WhoAmIRequest.getDefaultInstance())
          .getIdentity());
      List<GrantInfo> grants = admin.admin.listGrants(ListGrantsRequest.getDefaultInstance())
          .getGrantsList();
      assertEquals(List.of("a:alice:deploy", "b:bob:predict"), grants.stream()
          .map(g -> g.getModelName() + ":" + g.getIdentity() + ":" + g.getPermission()).toList());
      assertEquals(Status.Code.PERMISSION_DENIED, code(() -> asBob.deploy("b", 2, home)));
      // Home-folder deployments are not restored: bob may learn that "b" is gone, alice not.
      assertEquals(Status.Code.NOT_FOUND, code(() -> asBob.get("b")));
      assertEquals(Status.Code.PERMISSION_DENIED, code(() -> asAlice.get("b")));
      // bob's grants he can see: his own only.
      assertEquals(1, asBob.admin.listGrants(ListGrantsRequest.getDefaultInstance())
          .getGrantsCount());
    }
  }

  @Test
  void refusalsAndAdminActionsAreAuditedAndEachSeesWhatTheyMay() {
    String root = firstAdmin();
    String bob = tokenFor(root, "bob");
    try (TestClient admin = as(root)) {
      admin.deploy("m", 1, home);
    }
    try (TestClient asBob = as(bob); TestClient nobody = as("")) {
      code(() -> asBob.predict(TestClient.request("m", "x")));
      code(() -> nobody.predict(TestClient.request("m", "x")));
      List<AuditEntry> own = asBob.admin.listAudit(ListAuditRequest.getDefaultInstance())
          .getEntriesList();
      assertEquals(List.of("bob:predict:m:denied"), own.stream().map(GatewayIdentitiesTest::line)
          .toList());
    }
    try (TestClient admin = as(root)) {
      List<String> all = admin.admin.listAudit(ListAuditRequest.getDefaultInstance())
          .getEntriesList().stream().map(GatewayIdentitiesTest::line).toList();
      assertEquals(List.of("-:predict:m:unauthenticated", "bob:predict:m:denied",
          "root:deploy:m:ok", "root:create-token::ok", "local:create-token::ok"), all);
    }
  }

  @Test
  void aRevokedTokenIdentifiesNobodyAtOnce() {
    String bob = tokenFor(firstAdmin(), "bob");
    try (TestClient asBob = as(bob)) {
      String id = asBob.admin.listTokens(ListTokensRequest.getDefaultInstance()).getTokens(0)
          .getId();
      asBob.admin.whoAmI(WhoAmIRequest.getDefaultInstance()); // now in the cache
      asBob.admin.revokeToken(RevokeTokenRequest.newBuilder().setId(id).build());
      assertEquals(Status.Code.UNAUTHENTICATED,
          code(() -> asBob.admin.whoAmI(WhoAmIRequest.getDefaultInstance())));
    }
  }

  @Test
  void fuzzedTokensNeverCrashAnything() {
    try (TestClient local = as("")) {
      local.createToken("root", true);
    }
    java.util.Random random = new java.util.Random(14);
    for (int i = 0; i < 200; i++) {
      byte[] bytes = new byte[random.nextInt(300)];
      random.nextBytes(bytes);
      // Printable ASCII only: gRPC metadata cannot carry the rest (the client refuses it).
      StringBuilder token = new StringBuilder();
      for (byte b : bytes) {
        token.append((char) (0x21 + Math.floorMod(b, 0x5e)));
      }
      try (TestClient fuzz = as(token.toString())) {
        assertEquals(Status.Code.UNAUTHENTICATED,
            code(() -> fuzz.admin.whoAmI(WhoAmIRequest.getDefaultInstance())));
      }
    }
    // Thrift's authorization field and the HTTP Authorization header: any string, refused.
    for (int i = 0; i < 100; i++) {
      String junk = random.ints(random.nextInt(400), 0x21, 0x7f)
          .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
          .toString();
      assertEquals(ErrorCode.UNAUTHENTICATED, thriftListRefusal(junk + "\u00e9\u0000"));
      assertEquals(401, httpReadyStatus(junk));
    }
    try (TestClient anyone = as("")) {
      assertEquals(Status.Code.UNAUTHENTICATED, code(() -> anyone.admin.createToken(
          CreateTokenRequest.newBuilder().setIdentity("x").build())));
      assertEquals(Status.Code.UNAUTHENTICATED, code(() -> anyone.admin.deploy(
          DeployRequest.newBuilder().setModelName("m").setHomePath(home.toString()).build())));
    }
  }

  ErrorCode thriftListRefusal(String authorization) {
    try (TTransport transport = new TFramedTransport(new TSocket("127.0.0.1",
        gateway.thriftPort(), 10_000))) {
      transport.open();
      new PredictionService.Client(new TBinaryProtocol(transport)).listModels(authorization);
      throw new AssertionError("listed models with the authorization " + authorization);
    } catch (PymlError e) {
      return e.getCode();
    } catch (org.apache.thrift.TException e) {
      throw new AssertionError(e);
    }
  }

  int httpReadyStatus(String authorization) {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
              "http://127.0.0.1:" + gateway.httpPort() + "/v2/models/m/ready"))
          .header("Authorization", authorization).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (java.io.IOException | InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  static String line(AuditEntry entry) {
    return entry.getIdentity() + ":" + entry.getAction() + ":" + entry.getModelName() + ":"
        + entry.getOutcome();
  }
}
