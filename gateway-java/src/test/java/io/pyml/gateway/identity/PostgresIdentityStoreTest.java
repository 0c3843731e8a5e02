package io.pyml.gateway.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store contract on PostgreSQL (Debian's server, started once for the test run by
 * {@link PostgresServer}): a new database per case, the password given apart from the URL as
 * the gateway's password file gives it. Then what only a server has: a password written in
 * the URL, a wrong one, two gateways opening one database at once.
 */
@ExtendWith(PostgresServer.Shared.class)
class PostgresIdentityStoreTest extends IdentityStoreContract {
  private final PostgresServer server;

  PostgresIdentityStoreTest(PostgresServer server) {
    this.server = server;
  }

  @Override
  Location freshLocation() throws SQLException {
    String url = server.newDatabaseUrl();
    String database = url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
    return new Location() {
      @Override
      public JdbcIdentityStore open() {
        return JdbcIdentityStore.open(url, Optional.of(server.password()));
      }

      @Override
      public Connection connect() throws SQLException {
        return server.connect(database);
      }
    };
  }

  @Test
  void aPasswordInTheUrlIsUsedAndNeverShown() throws SQLException {
    String url = server.newDatabaseUrl();
    String withPassword = url + "&password="
        + URLEncoder.encode(server.password(), StandardCharsets.UTF_8);
    try (JdbcIdentityStore store = JdbcIdentityStore.open(withPassword)) {
      store.addToken(token("00000000000a", "alice", T0), "a".repeat(64));
      assertEquals(1, store.tokens().size());
    }
    String wrong = "not-" + server.password();
    IdentityStoreException refused = assertThrows(IdentityStoreException.class,
        () -> JdbcIdentityStore.open(url + "&password=" + wrong));
    assertTrue(refused.getMessage().contains("127.0.0.1:" + server.port()), refused.getMessage());
    for (Throwable cause = refused; cause != null; cause = cause.getCause()) {
      assertFalse(String.valueOf(cause.getMessage()).contains(wrong), cause.toString());
    }
  }

  @Test
  void aMachineWithoutTheServerFailsSayingWhatToInstall(@TempDir Path empty) {
    IllegalStateException missing = assertThrows(IllegalStateException.class,
        () -> PostgresServer.binaries(Optional.empty(), empty));
    assertTrue(missing.getMessage().contains("apt-get install postgresql"), missing.getMessage());
    assertThrows(IllegalStateException.class, () -> PostgresServer.binaries(
        Optional.of(empty.toString()), Path.of("/usr/lib/postgresql")), "a chosen folder");
  }

  @Test
  void aMissingPasswordIsAClearErrorNamingTheStore() throws SQLException {
    String url = server.newDatabaseUrl();
    IdentityStoreException refused = assertThrows(IdentityStoreException.class,
        () -> JdbcIdentityStore.open(url));
    assertTrue(refused.getMessage().startsWith("cannot open the identity store at " + url),
        refused.getMessage());
  }

  @Test
  void aConnectionTheServerDroppedIsOpenedAgainAndTheCallStillAnswers() throws SQLException {
    String url = server.newDatabaseUrl();
    String database = url.substring(url.lastIndexOf('/') + 1, url.indexOf('?'));
    try (JdbcIdentityStore store = JdbcIdentityStore.open(url, Optional.of(server.password()))) {
      store.addToken(token("00000000000a", "alice", T0), "a".repeat(64));
      dropConnectionsTo(database); // as a server restart, a fail-over or a proxy's timeout does
      assertEquals(1, store.tokens().size());
      dropConnectionsTo(database);
      store.addToken(token("00000000000b", "bob", T0), "b".repeat(64));
      dropConnectionsTo(database);
      assertTrue(store.revokeToken("00000000000b", T0));
      assertEquals(Optional.of(T0), store.token("00000000000b").orElseThrow().info().revoked());
    }
  }

  private void dropConnectionsTo(String database) throws SQLException {
    try (Connection admin = server.connect("postgres");
        var statement = admin.prepareStatement("SELECT count(pg_terminate_backend(pid)) "
            + "FROM pg_stat_activity WHERE datname = ?")) {
      statement.setString(1, database);
      try (var rows = statement.executeQuery()) {
        rows.next();
        assertEquals(1, rows.getInt(1), "the store's one connection");
      }
    }
  }

  @Test
  void twoGatewaysOpeningOneNewDatabaseAtOnceMigrateItOnce() throws Exception {
    String url = server.newDatabaseUrl();
    Callable<List<TokenInfo>> gateway = () -> {
      try (JdbcIdentityStore store = JdbcIdentityStore.open(url, Optional.of(server.password()))) {
        return store.tokens();
      }
    };
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<List<TokenInfo>>> opened = pool.invokeAll(List.of(gateway, gateway),
          60, TimeUnit.SECONDS);
      for (Future<List<TokenInfo>> store : opened) {
        assertEquals(List.of(), store.get());
      }
    } finally {
      pool.shutdownNow();
    }
    try (JdbcIdentityStore store = JdbcIdentityStore.open(url, Optional.of(server.password()))) {
      store.addToken(token("00000000000a", "alice", Instant.EPOCH), "a".repeat(64));
      assertEquals(1, store.tokens().size());
    }
  }
}
