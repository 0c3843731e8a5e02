package io.pyml.gateway.identity;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Bearer tokens: random, shown once, stored only hashed. A token reads
 * {@code pyml_<id>_<secret>}: the id (12 hex digits) finds its row, the secret (32 random
 * bytes, base64url) is checked against the SHA-256 kept there in constant time. Anything that
 * is not such a token, or whose secret, row or revocation does not match, identifies nobody:
 * a fuzzed or missing token is never an error, only no identity.
 */
public final class Tokens {
  /** How every PyML token starts: anything else is left to the JWT verifier, if any. */
  public static final String PREFIX = "pyml_";
  private static final Pattern FORMAT =
      Pattern.compile("pyml_([0-9a-f]{12})_([A-Za-z0-9_-]{43})");
  private static final int MAX_TOKEN_CHARS = 128;

  private final IdentityStore store;
  private final SecureRandom random = new SecureRandom();
  private final Clock clock;

  public Tokens(IdentityStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
  }

  /** A new token for {@code identity}; the token itself is in the result and nowhere else. */
  public record Issued(String token, TokenInfo info) {}

  public Issued create(String identity) {
    String id = HexFormat.of().formatHex(bytes(6));
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(32));
    TokenInfo info = new TokenInfo(id, identity, clock.instant(), Optional.empty());
    store.addToken(info, sha256(secret));
    return new Issued(PREFIX + id + "_" + secret, info);
  }

  /** The identity a token names, if it is well formed, known, matching and not revoked. */
  public Optional<String> identify(String token) {
    if (token == null || token.length() > MAX_TOKEN_CHARS) {
      return Optional.empty();
    }
    var match = FORMAT.matcher(token);
    if (!match.matches()) {
      return Optional.empty();
    }
    return store.token(match.group(1))
        .filter(stored -> stored.info().revoked().isEmpty())
        .filter(stored -> MessageDigest.isEqual(
            stored.secretSha256().getBytes(StandardCharsets.US_ASCII),
            sha256(match.group(2)).getBytes(StandardCharsets.US_ASCII)))
        .map(stored -> stored.info().identity());
  }

  public List<TokenInfo> list() {
    return store.tokens();
  }

  /** Revokes a token by its id; false when there is no live token with that id. */
  public boolean revoke(String id) {
    return store.revokeToken(id, clock.instant());
  }

  private byte[] bytes(int count) {
    byte[] bytes = new byte[count];
    random.nextBytes(bytes);
    return bytes;
  }

  /** The SHA-256 of an ASCII string, in hex: how a secret is stored and a token is keyed. */
  static String sha256(String secret) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(secret.getBytes(StandardCharsets.US_ASCII)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this Java", e);
    }
  }
}
