package io.pyml.gateway.identity;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.flywaydb.core.Flyway;

/**
 * {@link IdentityStore} over JDBC: an SQLite file by default ({@code jdbc:sqlite:<path>}),
 * PostgreSQL when a URL says so. Its schema is created and upgraded by Flyway from
 * {@code io/pyml/gateway/identity/migration} when the store opens, so a newer gateway
 * migrates an older gateway's file (on PostgreSQL, Flyway's lock lets several gateways open
 * one database at once: one migrates, the others wait). One connection, used under this
 * object's lock (opened again when a server dropped it): the state is small and written
 * rarely (tokens, grants, admin actions and refusals); tokens and grants are read through
 * the caches of {@link Access}, not per call.
 */
public final class JdbcIdentityStore implements IdentityStore {
  private static final String MIGRATIONS = "classpath:io/pyml/gateway/identity/migration";

  private final StoreUrl url;
  private Connection connection;

  private JdbcIdentityStore(StoreUrl url, Connection connection) {
    this.url = url;
    this.connection = connection;
  }

  /** Opens (creating or migrating the schema first) the store at {@code jdbcUrl}. */
  public static JdbcIdentityStore open(String jdbcUrl) {
    return open(jdbcUrl, Optional.empty());
  }

  /**
   * Opens the store at {@code jdbcUrl} ({@code jdbc:sqlite:<path>} or
   * {@code jdbc:postgresql://host:port/database?user=...}) with {@code password}, which wins
   * over one written in the URL. The password is taken out of the URL before Flyway or the
   * driver sees it, so no log line or error message quotes it.
   */
  public static JdbcIdentityStore open(String jdbcUrl, Optional<String> password) {
    StoreUrl store = StoreUrl.of(jdbcUrl, password);
    try {
      Flyway.configure().dataSource(store.url(), store.user().orElse(null), null)
          .jdbcProperties(store.secrets())
          .locations(MIGRATIONS).load().migrate();
      return new JdbcIdentityStore(store, connect(store));
    } catch (SQLException | RuntimeException e) {
      throw new IdentityStoreException("cannot open the identity store at " + store.url() + ": "
          + StoreUrl.masked(String.valueOf(e.getMessage())), e);
    }
  }

  @Override
  public synchronized void addToken(TokenInfo info, String secretSha256) {
    update("INSERT INTO tokens (id, identity, secret_sha256, created_at) VALUES (?, ?, ?, ?)",
        info.id(), info.identity(), secretSha256, info.created().toEpochMilli());
  }

  @Override
  public synchronized Optional<StoredToken> token(String id) {
    return query(JdbcIdentityStore::storedToken, "SELECT * FROM tokens WHERE id = ?", id)
        .stream().findFirst();
  }

  @Override
  public synchronized List<TokenInfo> tokens() {
    return query(JdbcIdentityStore::storedToken, "SELECT * FROM tokens ORDER BY created_at, id")
        .stream().map(StoredToken::info).toList();
  }

  @Override
  public synchronized boolean revokeToken(String id, Instant when) {
    return update("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        when.toEpochMilli(), id) == 1;
  }

  @Override
  public synchronized void putGrant(Grant grant) {
    // Delete then insert: the same statements on SQLite and PostgreSQL (no dialect's upsert).
    transaction(() -> {
      execute("DELETE FROM grants WHERE identity = ? AND model = ?", grant.identity(),
          grant.model());
      execute("INSERT INTO grants (identity, model, permission, granted_by, granted_at)"
          + " VALUES (?, ?, ?, ?, ?)", grant.identity(), grant.model(),
          grant.permission().wireName(), grant.grantedBy(), grant.grantedAt().toEpochMilli());
    });
  }

  @Override
  public synchronized boolean removeGrant(String identity, String model) {
    return update("DELETE FROM grants WHERE identity = ? AND model = ?", identity, model) == 1;
  }

  @Override
  public synchronized List<Grant> grants() {
    return query(rows -> new Grant(rows.getString("identity"), rows.getString("model"),
        Permission.parse(rows.getString("permission")).orElse(Permission.PREDICT),
        rows.getString("granted_by"), Instant.ofEpochMilli(rows.getLong("granted_at"))),
        "SELECT * FROM grants ORDER BY model, identity");
  }

  @Override
  public synchronized void addGatewayAdmin(String identity, String grantedBy, Instant when) {
    transaction(() -> {
      execute("DELETE FROM gateway_admins WHERE identity = ?", identity);
      execute("INSERT INTO gateway_admins (identity, granted_by, granted_at) VALUES (?, ?, ?)",
          identity, grantedBy, when.toEpochMilli());
    });
  }

  @Override
  public synchronized Set<String> gatewayAdmins() {
    return Set.copyOf(query(rows -> rows.getString("identity"),
        "SELECT identity FROM gateway_admins"));
  }

  @Override
  public synchronized void appendAudit(AuditEntry entry) {
    update("INSERT INTO audit (seq, at, identity, action, model, version, outcome, detail)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", entry.seq(), entry.at().toEpochMilli(),
        entry.identity(), entry.action(), entry.model(), entry.version(), entry.outcome(),
        entry.detail());
  }

  @Override
  public synchronized List<AuditEntry> audit(AuditQuery filter) {
    return query(rows -> new AuditEntry(rows.getLong("seq"),
        Instant.ofEpochMilli(rows.getLong("at")), rows.getString("identity"),
        rows.getString("action"), rows.getString("model"), rows.getLong("version"),
        rows.getString("outcome"), rows.getString("detail")),
        "SELECT * FROM audit WHERE (? = '' OR model = ?) AND (? = '' OR identity = ?)"
            + " ORDER BY seq DESC LIMIT ?",
        filter.model(), filter.model(), filter.identity(), filter.identity(), filter.limit());
  }

  @Override
  public synchronized long lastAuditSeq() {
    return query(rows -> rows.getLong(1), "SELECT COALESCE(MAX(seq), 0) FROM audit").get(0);
  }

  @Override
  public synchronized void close() {
    try {
      connection.close();
    } catch (SQLException e) {
      throw new IdentityStoreException("cannot close the identity store: " + e.getMessage(), e);
    }
  }

  private static StoredToken storedToken(ResultSet rows) throws SQLException {
    long revoked = rows.getLong("revoked_at");
    Optional<Instant> revokedAt = rows.wasNull() ? Optional.empty()
        : Optional.of(Instant.ofEpochMilli(revoked));
    return new StoredToken(new TokenInfo(rows.getString("id"), rows.getString("identity"),
        Instant.ofEpochMilli(rows.getLong("created_at")), revokedAt),
        rows.getString("secret_sha256"));
  }

  /** Reads one value from the current row of a result. */
  @FunctionalInterface
  private interface RowReader<T> {
    T read(ResultSet rows) throws SQLException;
  }

  /** Statements on {@link #connection} that may throw. */
  @FunctionalInterface
  private interface Statements {
    void run() throws SQLException;
  }

  private int update(String sql, Object... values) {
    return withConnection(() -> execute(sql, values));
  }

  private int execute(String sql, Object... values) throws SQLException {
    try (PreparedStatement statement = prepared(sql, values)) {
      return statement.executeUpdate();
    }
  }

  private <T> List<T> query(RowReader<T> reader, String sql, Object... values) {
    return withConnection(() -> {
      try (PreparedStatement statement = prepared(sql, values);
          ResultSet rows = statement.executeQuery()) {
        List<T> found = new ArrayList<>();
        while (rows.next()) {
          found.add(reader.read(rows));
        }
        return found;
      }
    });
  }

  /**
   * Runs {@code body} as one transaction: all of its statements or none. On a connection the
   * server dropped it runs again, whole, on a new one (its statements are idempotent).
   */
  private void transaction(Statements body) {
    withConnection(() -> {
      connection.setAutoCommit(false);
      try {
        body.run();
        connection.commit();
      } catch (SQLException | RuntimeException e) {
        try {
          connection.rollback();
        } catch (SQLException gone) {
          e.addSuppressed(gone);
        }
        throw e;
      } finally {
        connection.setAutoCommit(true);
      }
      return null;
    });
  }

  /** Work on {@link #connection}, through {@link #prepared}. */
  private interface SqlWork<T> {
    T run() throws SQLException;
  }

  /**
   * Runs {@code work}; if it failed because the connection itself is gone (a PostgreSQL
   * restart or fail-over, a proxy's idle timeout), runs it once more on a new connection, so
   * one dropped connection does not break the store until the gateway restarts. Any other
   * failure (a constraint, a bad statement) is the caller's, at once. A write that committed
   * just before its connection dropped is not applied twice: its retry finds it done (a
   * duplicate id, a token already revoked).
   */
  private <T> T withConnection(SqlWork<T> work) {
    try {
      return work.run();
    } catch (SQLException failed) {
      if (connectionAlive()) {
        throw new IdentityStoreException("identity store: " + failed.getMessage(), failed);
      }
      try {
        closeQuietly(connection);
        connection = connect(url);
        return work.run();
      } catch (SQLException again) {
        again.addSuppressed(failed);
        throw new IdentityStoreException("identity store at " + url.url() + ": "
            + StoreUrl.masked(String.valueOf(again.getMessage())), again);
      }
    }
  }

  private boolean connectionAlive() {
    try {
      return connection.isValid(5);
    } catch (SQLException e) {
      return false;
    }
  }

  private static void closeQuietly(Connection lost) {
    try {
      lost.close();
    } catch (SQLException alreadyGone) {
      // Nothing to release on a connection the server dropped.
    }
  }

  private static Connection connect(StoreUrl store) throws SQLException {
    return DriverManager.getConnection(store.url(), store.properties());
  }

  /** A statement on the current connection: call it inside {@link #withConnection}. */
  private PreparedStatement prepared(String sql, Object... values) throws SQLException {
    PreparedStatement statement = connection.prepareStatement(sql);
    for (int i = 0; i < values.length; i++) {
      statement.setObject(i + 1, values[i]);
    }
    return statement;
  }
}
