package io.pyml.gateway.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.pyml.gateway.Gateway;
import io.pyml.gateway.sidecar.SocketDirs;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestConfigs;
import io.pyml.proto.v1.WhoAmIRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * An organisation's identity provider through a real gateway: its signed JWTs identify callers
 * on every port, the operator names the first gateway admin (--gateway-admins), and grants
 * hold for a provider's users as for token users. Authentication is on from the start.
 */
class GatewayJwtTest {
  static Status.Code code(Executable call) {
    return assertThrows(StatusRuntimeException.class, call).getStatus().getCode();
  }

  @Test
  void aProvidersUsersAreIdentifiedAndHeldToTheirGrants() throws Exception {
    Path work = Files.createTempDirectory(Path.of("/tmp"), "pyml-jwt-");
    Path home = Files.createDirectories(work.resolve("home"));
    TestIdentityProvider idp = TestIdentityProvider.create();
    Path jwks = idp.writeJwks(work.resolve("jwks.json"));
    Gateway gateway = Gateway.start(TestConfigs.ephemeral(work.resolve("w"))
        .withJwt(Optional.of(TestIdentityProvider.settings(jwks)))
        .withGatewayAdmins(Set.of("ops")), new FakeLauncher());
    try (TestClient ops = new TestClient(gateway.grpcPort(), idp.token("ops"));
        TestClient carol = new TestClient(gateway.grpcPort(), idp.token("carol"));
        TestClient dave = new TestClient(gateway.grpcPort(), idp.token("dave"));
        TestClient nobody = new TestClient(gateway.grpcPort());
        TestClient expired = new TestClient(gateway.grpcPort(), idp.sign(
            TestIdentityProvider.claims("carol").expirationTime(
                Date.from(Instant.now().minusSeconds(600)))))) {
      assertEquals(Status.Code.UNAUTHENTICATED,
          code(() -> nobody.admin.whoAmI(WhoAmIRequest.getDefaultInstance())));
      assertEquals(true, ops.admin.whoAmI(WhoAmIRequest.getDefaultInstance())
          .getGatewayAdmin());
      ops.deploy("steady", 1, home);
      ops.grant("steady", "carol", "predict");

      carol.predict(TestClient.request("steady", "x"));
      assertEquals(Status.Code.PERMISSION_DENIED,
          code(() -> dave.predict(TestClient.request("steady", "x"))));
      assertEquals(Status.Code.UNAUTHENTICATED,
          code(() -> expired.predict(TestClient.request("steady", "x"))));
      assertEquals(Status.Code.PERMISSION_DENIED, code(() -> carol.deploy("steady", 2, home)));

      HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + gateway.httpPort() + "/v2/models/steady/ready"))
          .header("Authorization", "Bearer " + idp.token("carol")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, ready.statusCode(), ready.body());
      HttpResponse<String> refused = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + gateway.httpPort() + "/v2/models/steady/ready"))
          .header("Authorization", "Bearer " + idp.token("dave")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(403, refused.statusCode(), refused.body());
    } finally {
      gateway.close();
      SocketDirs.deleteRecursively(work);
    }
  }
}
