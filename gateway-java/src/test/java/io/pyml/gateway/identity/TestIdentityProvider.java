package io.pyml.gateway.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.pyml.gateway.config.JwtSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;

/**
 * A fake organisation identity provider for tests: one RSA key, its JWK set as a file, and
 * tokens signed for any identity, valid for five minutes, for the gateway's issuer and
 * audience. Front-end tests use it for a caller identified by a JWT.
 */
public final class TestIdentityProvider {
  public static final String ISSUER = "https://idp.example.org/realms/team";
  public static final String AUDIENCE = "pyml-gateway";

  private final RSAKey key;

  private TestIdentityProvider(RSAKey key) {
    this.key = key;
  }

  public static TestIdentityProvider create() {
    try {
      return new TestIdentityProvider(new RSAKeyGenerator(2048).keyID("rsa-1").generate());
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  public RSAKey key() {
    return key;
  }

  /** Writes the public key set to {@code file}, as a provider publishes it. */
  public Path writeJwks(Path file) throws IOException {
    return Files.writeString(file, new JWKSet(key.toPublicJWK()).toString());
  }

  /** The gateway's settings for this provider, its key set at {@code jwks}. */
  public static JwtSettings settings(Path jwks) {
    return new JwtSettings(Optional.of(jwks), Optional.empty(), ISSUER, AUDIENCE,
        JwtSettings.DEFAULT_IDENTITY_CLAIM);
  }

  /** Claims of a valid token for {@code identity}, to change before signing. */
  public static JWTClaimsSet.Builder claims(String identity) {
    Instant now = Instant.now();
    return new JWTClaimsSet.Builder().issuer(ISSUER).audience(AUDIENCE).subject(identity)
        .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(300)));
  }

  /** A valid token for {@code identity}. */
  public String token(String identity) {
    return sign(claims(identity));
  }

  /** The claims signed RS256 with this provider's key, as the compact JWT. */
  public String sign(JWTClaimsSet.Builder claims) {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256)
        .keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(), claims.build());
    try {
      jwt.sign(new RSASSASigner(key));
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
    return jwt.serialize();
  }
}
