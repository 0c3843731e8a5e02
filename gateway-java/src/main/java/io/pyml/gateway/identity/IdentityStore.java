package io.pyml.gateway.identity;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The one small storage interface of identities' state, which outlives the gateway: tokens,
 * grants, gateway admins and the audit log. {@link JdbcIdentityStore} keeps it in SQLite or
 * PostgreSQL. The audit log can only be appended to and read.
 */
public interface IdentityStore extends AutoCloseable {
  /** A token as stored: its listing and the SHA-256 of its secret (hex). */
  record StoredToken(TokenInfo info, String secretSha256) {}

  /** Which audit lines to read: newest first, at most {@code limit}; empty filters match all. */
  record AuditQuery(String model, String identity, int limit) {}

  void addToken(TokenInfo info, String secretSha256);

  Optional<StoredToken> token(String id);

  List<TokenInfo> tokens();

  /** Marks the token revoked at {@code when}; false when there is no such live token. */
  boolean revokeToken(String id, Instant when);

  /** Adds the grant, or replaces the permission of the identity's grant on that model. */
  void putGrant(Grant grant);

  /** Removes the identity's grant on the model; false when it had none. */
  boolean removeGrant(String identity, String model);

  List<Grant> grants();

  void addGatewayAdmin(String identity, String grantedBy, Instant when);

  Set<String> gatewayAdmins();

  void appendAudit(AuditEntry entry);

  List<AuditEntry> audit(AuditQuery query);

  /** The highest audit sequence number so far; 0 for an empty log. */
  long lastAuditSeq();

  @Override
  void close();
}
