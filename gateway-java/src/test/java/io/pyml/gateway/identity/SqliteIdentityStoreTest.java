package io.pyml.gateway.identity;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import org.junit.jupiter.api.io.TempDir;

/** The store contract on SQLite, the default: a new file in a temporary folder per case. */
class SqliteIdentityStoreTest extends IdentityStoreContract {
  @TempDir
  Path folder;

  @Override
  Location freshLocation() {
    String url = "jdbc:sqlite:" + folder.resolve("identities.db");
    return new Location() {
      @Override
      public JdbcIdentityStore open() {
        return JdbcIdentityStore.open(url);
      }

      @Override
      public Connection connect() throws SQLException {
        return DriverManager.getConnection(url);
      }
    };
  }
}
