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
import org.flywaydb.core.Flyway;

/**
 * {@link IdentityStore} over JDBC: an SQLite file by default ({@code jdbc:sqlite:<path>}),
 * PostgreSQL when a URL says so. Its schema is created and upgraded by Flyway from
 * {@code io/pyml/gateway/identity/migration} when the store opens, so a newer gateway
 * migrates an older gateway's file (on PostgreSQL, Flyway's lock lets several gateways open
 * one database at once: one migrates, the others wait). One connection, used under this
 * object's lock (opened again when a server dropped it): the state is small and written
 * rarely (token and grant changes), read once per new token.
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
    List<StoredToken> found = query("SELECT * FROM tokens WHERE id = ?", id);
    return found.stream().findFirst();
  }

  @Override
  public synchronized List<TokenInfo> tokens() {
    return query("SELECT * FROM tokens ORDER BY created_at, id").stream()
        .map(StoredToken::info).toList();
  }

  @Override
  public synchronized boolean revokeToken(String id, Instant when) {
    return update("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        when.toEpochMilli(), id) == 1;
  }

  @Override
  public synchronized void close() {
    try {
      connection.close();
    } catch (SQLException e) {
      throw new IdentityStoreException("cannot close the identity store: " + e.getMessage(), e);
    }
  }

  private int update(String sql, Object... values) {
    return withConnection(() -> {
      try (PreparedStatement statement = prepared(sql, values)) {
        return statement.executeUpdate();
      }
    });
  }

  private List<StoredToken> query(String sql, Object... values) {
    return withConnection(() -> {
      try (PreparedStatement statement = prepared(sql, values);
          ResultSet rows = statement.executeQuery()) {
        List<StoredToken> tokens = new ArrayList<>();
        while (rows.next()) {
          long revoked = rows.getLong("revoked_at");
          Optional<Instant> revokedAt = rows.wasNull() ? Optional.empty()
              : Optional.of(Instant.ofEpochMilli(revoked));
          tokens.add(new StoredToken(new TokenInfo(rows.getString("id"),
              rows.getString("identity"), Instant.ofEpochMilli(rows.getLong("created_at")),
              revokedAt), rows.getString("secret_sha256")));
        }
        return tokens;
      }
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
