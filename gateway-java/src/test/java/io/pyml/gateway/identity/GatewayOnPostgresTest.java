package io.pyml.gateway.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.pyml.gateway.Gateway;
import io.pyml.gateway.config.GatewayConfig;
import io.pyml.gateway.config.IdentitySettings;
import io.pyml.gateway.sidecar.SocketDirs;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestConfigs;
import io.pyml.proto.v1.ListAuditRequest;
import io.pyml.proto.v1.ListGrantsRequest;
import io.pyml.proto.v1.WhoAmIRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A gateway whose identities live in PostgreSQL (Debian's server, started by the tests; the
 * password in an owner-only file): tokens, grants and the audit log survive its restart, and
 * the state folder holds no identities file.
 */
@ExtendWith(PostgresServer.Shared.class)
class GatewayOnPostgresTest {
  private final PostgresServer server;

  GatewayOnPostgresTest(PostgresServer server) {
    this.server = server;
  }

  @Test
  void grantsAndTokensSurviveARestart() throws Exception {
    Path work = Files.createTempDirectory(Path.of("/tmp"), "pyml-pgw-");
    Path passwordFile = work.resolve("password");
    Files.writeString(passwordFile, server.password() + "\n");
    Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
    GatewayConfig config = TestConfigs.ephemeral(work.resolve("w")).withIdentities(
        new IdentitySettings(Optional.of(server.newDatabaseUrl()), Optional.of(passwordFile)));
    String root;
    String bob;
    Gateway gateway = Gateway.start(config, new FakeLauncher());
    try {
      try (TestClient local = new TestClient(gateway.grpcPort())) {
        root = local.createToken("root", true);
      }
      try (TestClient admin = new TestClient(gateway.grpcPort(), root)) {
        bob = admin.createToken("bob", false);
        admin.grant("m", "bob", "predict");
      }
      gateway.close();
      gateway = Gateway.start(config, new FakeLauncher());
      try (TestClient asBob = new TestClient(gateway.grpcPort(), bob);
          TestClient admin = new TestClient(gateway.grpcPort(), root)) {
        assertEquals("bob", asBob.admin.whoAmI(WhoAmIRequest.getDefaultInstance())
            .getIdentity());
        assertEquals(1, admin.admin.listGrants(ListGrantsRequest.getDefaultInstance())
            .getGrantsCount());
        assertEquals(Status.Code.PERMISSION_DENIED, assertThrows(StatusRuntimeException.class,
            () -> asBob.get("other")).getStatus().getCode());
        assertEquals("bob", admin.admin.listAudit(ListAuditRequest.getDefaultInstance())
            .getEntries(0).getIdentity());
      }
      assertEquals(false, Files.exists(config.state().stateDir()
          .resolve(IdentitySettings.DEFAULT_FILE)));
    } finally {
      gateway.close();
      SocketDirs.deleteRecursively(work);
    }
  }
}
