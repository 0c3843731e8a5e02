package io.pyml.gateway.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link IdentityStore} back end does the same: each case here runs on SQLite
 * ({@link SqliteIdentityStoreTest}) and on PostgreSQL ({@link PostgresIdentityStoreTest}),
 * each time on a fresh, empty store. A new store method (grants, the audit log) gets its
 * cases here, once, and both back ends are held to them.
 */
abstract class IdentityStoreContract {
  static final Instant T0 = Instant.parse("2026-12-05T20:00:00.123Z");

  /** Where a fresh store lives: how to open it, and a plain connection to look inside. */
  interface Location {
    JdbcIdentityStore open();

    Connection connect() throws SQLException;
  }

  /** A fresh, empty store location (a new file, a new database). */
  abstract Location freshLocation() throws Exception;

  Location location;

  @BeforeEach
  void freshStore() throws Exception {
    location = freshLocation();
  }

  static TokenInfo token(String id, String identity, Instant created) {
    return new TokenInfo(id, identity, created, Optional.empty());
  }

  @Test
  void addedTokensAreFoundByIdAndListedInCreationOrder() {
    TokenInfo later = token("00000000000c", "carol", T0.plusMillis(1));
    TokenInfo second = token("00000000000b", "bob@example.org", T0);
    TokenInfo first = token("00000000000a", "zoë", T0); // same time: by id
    try (JdbcIdentityStore store = location.open()) {
      assertEquals(List.of(), store.tokens());
      store.addToken(later, "c".repeat(64));
      store.addToken(second, "b".repeat(64));
      store.addToken(first, "a".repeat(64));
      assertEquals(Optional.of(new IdentityStore.StoredToken(second, "b".repeat(64))),
          store.token(second.id()));
      assertEquals(Optional.empty(), store.token("0000000000ff"));
      assertEquals(List.of(first, second, later), store.tokens());
    }
  }

  @Test
  void aTokenIsRevokedOnceAndStaysListedWithItsTime() {
    Instant revoked = T0.plusSeconds(3600).plusMillis(7);
    try (JdbcIdentityStore store = location.open()) {
      store.addToken(token("00000000000a", "alice", T0), "a".repeat(64));
      assertTrue(store.revokeToken("00000000000a", revoked));
      assertFalse(store.revokeToken("00000000000a", revoked.plusSeconds(1)), "already revoked");
      assertFalse(store.revokeToken("0000000000ff", revoked), "no such token");
      TokenInfo expected = new TokenInfo("00000000000a", "alice", T0, Optional.of(revoked));
      assertEquals(List.of(expected), store.tokens());
      assertEquals(expected, store.token("00000000000a").orElseThrow().info());
    }
  }

  @Test
  void aSecondTokenWithTheSameIdIsRefusedAndTheFirstIsKept() {
    try (JdbcIdentityStore store = location.open()) {
      store.addToken(token("00000000000a", "alice", T0), "a".repeat(64));
      assertThrows(IdentityStoreException.class,
          () -> store.addToken(token("00000000000a", "mallory", T0), "b".repeat(64)));
      assertEquals("alice", store.token("00000000000a").orElseThrow().info().identity());
    }
  }

  @Test
  void reopeningKeepsEverythingAndAMigratedStoreMigratesNothing() throws SQLException {
    TokenInfo alice = token("00000000000a", "alice", T0);
    try (JdbcIdentityStore store = location.open()) {
      store.addToken(alice, "a".repeat(64));
      store.addToken(token("00000000000b", "bob", T0.plusMillis(5)), "b".repeat(64));
      store.revokeToken("00000000000b", T0.plusSeconds(60));
    }
    List<String> migrations = appliedMigrations();
    List<TokenInfo> tokens;
    try (JdbcIdentityStore store = location.open()) {
      tokens = store.tokens();
      assertEquals(2, tokens.size());
      assertEquals(alice, tokens.get(0));
      assertEquals(Optional.of(T0.plusSeconds(60)), tokens.get(1).revoked());
      assertEquals("a".repeat(64), store.token(alice.id()).orElseThrow().secretSha256());
    }
    try (JdbcIdentityStore store = location.open()) {
      assertEquals(tokens, store.tokens(), "a third open loses nothing either");
    }
    assertFalse(migrations.isEmpty(), "the first open migrated the empty store");
    assertEquals(migrations, appliedMigrations(), "reopening applied no migration again");
  }

  @Test
  void tokensAreCreatedIdentifiedAndRevokedAcrossARestart() {
    Clock clock = Clock.fixed(T0, ZoneOffset.UTC);
    Tokens.Issued issued;
    try (JdbcIdentityStore store = location.open()) {
      issued = new Tokens(store, clock).create("alice");
      assertEquals(Optional.of("alice"), new Tokens(store, clock).identify(issued.token()));
    }
    try (JdbcIdentityStore store = location.open()) {
      Tokens tokens = new Tokens(store, clock);
      assertEquals(Optional.of("alice"), tokens.identify(issued.token()));
      assertEquals(Optional.empty(), tokens.identify(issued.token() + "x"));
      assertTrue(tokens.revoke(issued.info().id()));
      assertEquals(Optional.empty(), tokens.identify(issued.token()));
      assertEquals(List.of(new TokenInfo(issued.info().id(), "alice", T0, Optional.of(T0))),
          tokens.list());
    }
  }

  /** Flyway's history, one line per applied migration (version, checksum, when, outcome). */
  private List<String> appliedMigrations() throws SQLException {
    try (Connection connection = location.connect();
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("SELECT version, checksum, installed_on, "
            + "success FROM flyway_schema_history ORDER BY installed_rank")) {
      List<String> lines = new ArrayList<>();
      while (rows.next()) {
        lines.add(rows.getString(1) + " " + rows.getString(2) + " " + rows.getString(3) + " "
            + rows.getString(4));
      }
      return lines;
    }
  }

  @Test
  void aGrantIsReplacedNotDuplicatedAndRemovedOnce() {
    try (JdbcIdentityStore store = location.open()) {
      store.putGrant(new Grant("bob", "m", Permission.PREDICT, "root", T0));
      store.putGrant(new Grant("bob", "m", Permission.DEPLOY, "root", T0.plusMillis(1)));
      store.putGrant(new Grant("ann", Grant.EVERY_MODEL, Permission.ADMIN, "root", T0));
      assertEquals(List.of(new Grant("ann", Grant.EVERY_MODEL, Permission.ADMIN, "root", T0),
          new Grant("bob", "m", Permission.DEPLOY, "root", T0.plusMillis(1))), store.grants());
      assertTrue(store.removeGrant("bob", "m"));
      assertFalse(store.removeGrant("bob", "m"));
    }
    try (JdbcIdentityStore reopened = location.open()) {
      assertEquals(1, reopened.grants().size());
    }
  }

  @Test
  void gatewayAdminsAreKeptOnceEach() {
    try (JdbcIdentityStore store = location.open()) {
      store.addGatewayAdmin("root", "local", T0);
      store.addGatewayAdmin("root", "local", T0.plusMillis(5));
      store.addGatewayAdmin("ops", "root", T0);
      assertEquals(java.util.Set.of("root", "ops"), store.gatewayAdmins());
    }
  }

  @Test
  void theAuditLogIsReadNewestFirstFilteredAndLimited() {
    try (JdbcIdentityStore store = location.open()) {
      assertEquals(0, store.lastAuditSeq());
      for (int i = 1; i <= 5; i++) {
        store.appendAudit(new AuditEntry(i, T0.plusMillis(i), i % 2 == 0 ? "bob" : "ann",
            "deploy", i <= 3 ? "m" : "n", i, AuditEntry.OK, "entry " + i));
      }
      assertEquals(5, store.lastAuditSeq());
      assertEquals(List.of(5L, 4L, 3L, 2L, 1L), seqs(store.audit(
          new IdentityStore.AuditQuery("", "", 10))));
      assertEquals(List.of(3L, 2L), seqs(store.audit(new IdentityStore.AuditQuery("m", "", 2))));
      assertEquals(List.of(4L, 2L), seqs(store.audit(new IdentityStore.AuditQuery("", "bob",
          10))));
      AuditEntry newest = store.audit(new IdentityStore.AuditQuery("n", "ann", 1)).get(0);
      assertEquals(new AuditEntry(5, T0.plusMillis(5), "ann", "deploy", "n", 5, AuditEntry.OK,
          "entry 5"), newest);
      // Append-only: a sequence number is never written twice.
      assertThrows(IdentityStoreException.class, () -> store.appendAudit(newest));
    }
  }

  private static List<Long> seqs(List<AuditEntry> entries) {
    return entries.stream().map(AuditEntry::seq).toList();
  }
}
