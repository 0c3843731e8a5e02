package io.pyml.gateway.identity;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The one small storage interface of identities' state, which outlives the gateway: tokens
 * now (grants and the audit log next). {@link JdbcIdentityStore} keeps it in SQLite or
 * PostgreSQL.
 */
public interface IdentityStore extends AutoCloseable {
  /** A token as stored: its listing and the SHA-256 of its secret (hex). */
  record StoredToken(TokenInfo info, String secretSha256) {}

  void addToken(TokenInfo info, String secretSha256);

  Optional<StoredToken> token(String id);

  List<TokenInfo> tokens();

  /** Marks the token revoked at {@code when}; false when there is no such live token. */
  boolean revokeToken(String id, Instant when);

  @Override
  void close();
}
