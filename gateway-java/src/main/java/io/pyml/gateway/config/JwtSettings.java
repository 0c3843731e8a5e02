package io.pyml.gateway.config;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Signed JWTs from an organisation's identity provider (off unless a key set is given).
 * Exactly one key set: a JWKS file or a JWKS URL; the tokens' issuer and audience are then
 * required, so that a token the same provider signed for another application is refused.
 *
 * @param jwksFile a JSON Web Key Set file, re-read when it changes
 * @param jwksUrl the provider's JWKS URL: https, or http to a loopback address only (keys
 *     fetched in clear over a network could be replaced by anyone on the path)
 * @param issuer the tokens' {@code iss}, matched exactly
 * @param audience a value the tokens' {@code aud} must hold (this gateway)
 * @param identityClaim the claim whose string value is the caller's identity (default
 *     {@code sub})
 */
public record JwtSettings(
    Optional<Path> jwksFile,
    Optional<URI> jwksUrl,
    String issuer,
    String audience,
    String identityClaim) {

  public static final String DEFAULT_IDENTITY_CLAIM = "sub";

  public JwtSettings {
    Objects.requireNonNull(jwksFile, "jwksFile");
    Objects.requireNonNull(jwksUrl, "jwksUrl");
    if (jwksFile.isPresent() == jwksUrl.isPresent()) {
      throw new IllegalArgumentException(
          "give exactly one JWT key set: --jwt-jwks-file or --jwt-jwks-url");
    }
    requireText(issuer, "--jwt-issuer");
    requireText(audience, "--jwt-audience");
    requireText(identityClaim, "--jwt-identity-claim");
    jwksUrl.flatMap(JwtSettings::urlProblem).ifPresent(problem -> {
      throw new IllegalArgumentException("--jwt-jwks-url " + problem);
    });
  }

  /** Why {@code url} cannot serve as a key set's address, if it cannot. */
  public static Optional<String> urlProblem(URI url) {
    String scheme = Objects.requireNonNullElse(url.getScheme(), "").toLowerCase(Locale.ROOT);
    if (url.getHost() == null || !(scheme.equals("https") || scheme.equals("http"))) {
      return Optional.of("'" + url + "' is not an http(s) URL with a host");
    }
    if (scheme.equals("http") && !isLoopback(url.getHost())) {
      return Optional.of("'" + url + "' must be https: keys fetched in clear over a network "
          + "could be replaced on the way (http is accepted for a loopback address only)");
    }
    return Optional.empty();
  }

  /** Loopback by its literal address or the name localhost; never a DNS look-up. */
  private static boolean isLoopback(String host) {
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    String literal = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    if (!literal.matches("[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:.]*")) {
      return false;
    }
    try {
      return InetAddress.getByName(literal).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static void requireText(String value, String flag) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(flag + " is required when JWTs are verified "
          + "(--jwt-jwks-file or --jwt-jwks-url is set)");
    }
  }
}
