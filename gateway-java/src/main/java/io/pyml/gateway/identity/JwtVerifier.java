package io.pyml.gateway.identity;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.pyml.gateway.config.JwtSettings;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import java.util.Set;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * Identities from signed JWTs that an organisation's identity provider issued. nimbus-jose-jwt
 * does all of the JOSE work: the signature, by a key of the configured set, with an allowed
 * algorithm (public-key ones only: {@code alg: none}, HMAC with shared secrets and so the
 * "public key as HMAC secret" confusion, and encrypted tokens are refused); {@code exp}
 * (required) and {@code nbf} with {@value #MAX_CLOCK_SKEW_SECONDS} s of clock skew; the issuer
 * exactly and the audience. Any token that fails, however malformed, identifies nobody: it is
 * never an error. An accepted token is remembered (by its digest) until its {@code exp}, and
 * for {@link #TRUST_VERIFIED_FOR} at most, so a client's repeated token is not checked anew
 * on every call.
 */
public final class JwtVerifier {
  private static final Logger LOG = Logger.getLogger(JwtVerifier.class.getName());

  /** RSA (PKCS#1 and PSS) and ECDSA. EdDSA is left out: nimbus verifies it through Tink. */
  public static final Set<JWSAlgorithm> ALGORITHMS = Set.of(
      JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
      JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512,
      JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);
  /** Checked before any parsing: real tokens are 1-2 KiB. */
  public static final int MAX_TOKEN_CHARS = 8 * 1024;
  public static final int MAX_CLOCK_SKEW_SECONDS = 60;
  /** An identity is a name that goes to logs and the audit table, not a document. */
  static final int MAX_IDENTITY_CHARS = 256;
  // A JWKS URL: each fetch is bounded (connect, read, size), a key set is cached 5 minutes and
  // fetched again at most every 30 s, so unknown key ids in forged tokens cannot flood it.
  static final int CONNECT_TIMEOUT_MS = 2_000;
  static final int READ_TIMEOUT_MS = 3_000;
  static final int MAX_JWKS_BYTES = 256 * 1024;
  static final long CACHE_TTL_MS = 5 * 60_000;
  /** How long a caller waits for another caller's fetch of the key set: one fetch's bound. */
  static final long CACHE_REFRESH_WAIT_MS = CONNECT_TIMEOUT_MS + READ_TIMEOUT_MS + 1_000;

  /** Accepted tokens kept at most this long without a new check (see VerifiedTokens). */
  static final Duration TRUST_VERIFIED_FOR = Duration.ofSeconds(60);
  static final int MAX_VERIFIED_TOKENS = 4096;

  /** Three base64url parts (the JWS compact form); the signature is empty for alg none. */
  private static final Pattern COMPACT = Pattern.compile(
      "[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*");

  private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
  private final String identityClaim;
  private final Clock clock;
  private final VerifiedTokens verified;

  /** A verifier of {@code settings}' tokens against {@code keys}, its key set already open. */
  JwtVerifier(JWKSource<SecurityContext> keys, JwtSettings settings, Clock clock,
      int maxVerifiedTokens) {
    this.identityClaim = settings.identityClaim();
    this.clock = clock;
    this.verified = new VerifiedTokens(maxVerifiedTokens);
    // Access tokens of RFC 9068 say at+jwt; most providers say JWT or nothing.
    processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(
        JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), null));
    processor.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, keys));
    DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
        Set.of(settings.audience()),
        new JWTClaimsSet.Builder().issuer(settings.issuer()).build(),
        Set.of("exp", identityClaim),
        null) {
      @Override
      protected Date currentTime() {
        return Date.from(clock.instant());
      }
    };
    claims.setMaxClockSkew(MAX_CLOCK_SKEW_SECONDS);
    processor.setJWTClaimsSetVerifier(claims);
  }

  /**
   * The verifier for these settings. The key set file is read now (an unreadable or empty one
   * is an {@link IOException} naming the flag); a URL's key set is fetched at the first token.
   */
  public static JwtVerifier from(JwtSettings settings) throws IOException {
    JWKSource<SecurityContext> keys = settings.jwksFile().isPresent()
        ? new JwksFile(settings.jwksFile().get())
        : fromUrl(settings.jwksUrl().orElseThrow());
    return new JwtVerifier(keys, settings, Clock.systemUTC(), MAX_VERIFIED_TOKENS);
  }

  private static JWKSource<SecurityContext> fromUrl(URI url) throws IOException {
    return JWKSourceBuilder.<SecurityContext>create(url.toURL(),
            new DefaultResourceRetriever(CONNECT_TIMEOUT_MS, READ_TIMEOUT_MS, MAX_JWKS_BYTES))
        .cache(CACHE_TTL_MS, CACHE_REFRESH_WAIT_MS)
        .build();
  }

  /** Whether a bearer credential has a JWT's shape (then {@link #identify} decides). */
  public static boolean looksLikeJwt(String credential) {
    return credential != null && credential.length() <= MAX_TOKEN_CHARS
        && COMPACT.matcher(credential).matches();
  }

  /** The identity of a valid token: its identity claim, a non-blank string. */
  public Optional<String> identify(String token) {
    if (!looksLikeJwt(token)) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    Optional<String> known = verified.get(token, now);
    return known.isPresent() ? known : verify(token, now);
  }

  private Optional<String> verify(String token, Instant now) {
    try {
      JWTClaimsSet claims = processor.process(token, null);
      Object identity = claims.getClaim(identityClaim);
      if (identity instanceof String name && isPrintableName(name)) {
        Instant expires = claims.getExpirationTime().toInstant();
        Instant trustUntil = now.plus(TRUST_VERIFIED_FOR);
        verified.put(token, name, expires.isBefore(trustUntil) ? expires : trustUntil);
        return Optional.of(name);
      }
      LOG.fine("JWT refused: claim '" + identityClaim + "' is not a printable name");
    } catch (Exception e) {
      // nimbus's own refusals (ParseException, BadJOSEException, JOSEException) and anything a
      // hostile token might make it throw besides: either way the token identifies nobody.
      LOG.fine("JWT refused: " + e.getMessage());
    }
    return Optional.empty();
  }

  private static boolean isPrintableName(String name) {
    return !name.isBlank() && name.length() <= MAX_IDENTITY_CHARS
        && name.chars().noneMatch(Character::isISOControl);
  }
}
