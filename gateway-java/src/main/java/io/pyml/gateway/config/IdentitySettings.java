package io.pyml.gateway.config;

import io.pyml.gateway.identity.StoreUrl;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Where identities, grants and the audit log are kept.
 *
 * @param storeUrl the identity store's JDBC URL: {@code jdbc:sqlite:<file>} or
 *     {@code jdbc:postgresql://host:port/database?user=...}; empty (the default): the SQLite
 *     file {@value #DEFAULT_FILE} in the gateway's state folder ({@link #jdbcUrl})
 * @param passwordFile a file holding the PostgreSQL password (its first line), so that the
 *     password is on no command line, in no environment and in no URL; readable by its owner
 *     only, as libpq asks of {@code ~/.pgpass}; empty: the URL's {@code password} parameter,
 *     if any
 */
public record IdentitySettings(Optional<String> storeUrl, Optional<Path> passwordFile) {
  public static final String DEFAULT_FILE = "identities.db";
  public static final IdentitySettings DEFAULTS =
      new IdentitySettings(Optional.empty(), Optional.empty());
  private static final String SQLITE = "jdbc:sqlite:";
  private static final String POSTGRESQL = "jdbc:postgresql:";
  /** A password is a line; a bigger file is not a password file. */
  private static final long MAX_PASSWORD_FILE_BYTES = 4096;

  public IdentitySettings {
    Objects.requireNonNull(storeUrl, "storeUrl");
    Objects.requireNonNull(passwordFile, "passwordFile");
    storeUrl.ifPresent(url -> {
      if (!url.startsWith(SQLITE) && !url.startsWith(POSTGRESQL)) {
        throw new IllegalArgumentException("identity-store-url '" + StoreUrl.masked(url)
            + "' is not a store the gateway knows (expected: " + SQLITE + "<file> or "
            + POSTGRESQL + "//<host>:<port>/<database>?user=<user>)");
      }
    });
    if (passwordFile.isPresent() && !storeUrl.orElse(SQLITE).startsWith(POSTGRESQL)) {
      throw new IllegalArgumentException("identity-store-password-file is the password of a "
          + "PostgreSQL store: set --identity-store-url to its jdbc:postgresql: URL");
    }
  }

  /** The store's URL: the one set, else {@code jdbc:sqlite:<stateDir>/identities.db}. */
  public String jdbcUrl(Path stateDir) {
    return storeUrl.orElseGet(() -> SQLITE + stateDir.resolve(DEFAULT_FILE));
  }

  /**
   * The password file's first line; empty without a file. Read when asked (at start), never
   * kept in these settings, which are printed.
   */
  public Optional<String> password() throws ConfigException {
    if (passwordFile.isEmpty()) {
      return Optional.empty();
    }
    Path file = passwordFile.get();
    try {
      Set<PosixFilePermission> others = Files.getPosixFilePermissions(file);
      others.retainAll(Set.of(PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ));
      if (!others.isEmpty()) {
        throw new ConfigException("identity-store-password-file " + file + " can be read by "
            + "other users (" + others.iterator().next().toString().toLowerCase(Locale.ROOT)
            + "): make it readable by its owner only (chmod 600)");
      }
      if (Files.size(file) > MAX_PASSWORD_FILE_BYTES) {
        throw new ConfigException("identity-store-password-file " + file + " is over "
            + MAX_PASSWORD_FILE_BYTES + " bytes (expected: the password on one line)");
      }
      String password = Files.readString(file, StandardCharsets.UTF_8).lines().findFirst()
          .orElse("");
      if (password.isEmpty()) {
        throw new ConfigException("identity-store-password-file " + file
            + " is empty (expected: the password on its first line)");
      }
      return Optional.of(password);
    } catch (NoSuchFileException e) {
      throw new ConfigException("identity-store-password-file " + file + " does not exist");
    } catch (IOException e) {
      throw new ConfigException("cannot read identity-store-password-file " + file + ": " + e);
    }
  }

  /** Never a password written in the URL. */
  @Override
  public String toString() {
    return "IdentitySettings[storeUrl=" + storeUrl.map(StoreUrl::masked) + ", passwordFile="
        + passwordFile + "]";
  }
}
