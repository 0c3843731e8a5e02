package io.pyml.gateway.identity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.OctetSequenceKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.pyml.gateway.config.JwtSettings;
import io.pyml.gateway.testing.MovingClock;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signed JWTs from a fake identity provider whose keys the test generates: what is accepted
 * (a valid token of a key in the set) and everything refused, fuzzed tokens included.
 */
class JwtVerifierTest {
  static final String ISSUER = TestIdentityProvider.ISSUER;
  static final String AUDIENCE = TestIdentityProvider.AUDIENCE;
  static final Optional<String> ALICE = Optional.of("alice");
  static final Optional<String> NOBODY = Optional.empty();

  static TestIdentityProvider idp;
  static RSAKey rsa;
  static ECKey ec;
  /** Not in the set, but with the same key id as {@link #rsa}. */
  static RSAKey stranger;

  @TempDir
  Path folder;
  Path jwks;
  JwtVerifier verifier;

  @BeforeAll
  static void keys() throws Exception {
    idp = TestIdentityProvider.create();
    rsa = idp.key();
    ec = new ECKeyGenerator(Curve.P_256).keyID("ec-1").generate();
    stranger = new RSAKeyGenerator(2048).keyID("rsa-1").generate();
  }

  @BeforeEach
  void verifier() throws IOException {
    jwks = folder.resolve("jwks.json");
    // The private parts too, as an operator might paste them: only public keys are used.
    Files.writeString(jwks, new JWKSet(List.of(rsa, ec)).toString(false));
    verifier = JwtVerifier.from(settings(jwks, "sub"));
  }

  static JwtSettings settings(Path file, String claim) {
    return new JwtSettings(Optional.of(file), Optional.empty(), ISSUER, AUDIENCE, claim);
  }

  static JWTClaimsSet.Builder claims() {
    return TestIdentityProvider.claims("alice");
  }

  static String sign(JWK key, JWSAlgorithm alg, JWTClaimsSet claims) throws Exception {
    JWSSigner signer = key instanceof ECKey e ? new ECDSASigner(e) : new RSASSASigner((RSAKey) key);
    SignedJWT jwt = new SignedJWT(
        new JWSHeader.Builder(alg).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(), claims);
    jwt.sign(signer);
    return jwt.serialize();
  }

  static String rs256(JWTClaimsSet.Builder claims) {
    return idp.sign(claims);
  }

  static String valid() throws Exception {
    return rs256(claims());
  }

  @Test
  void aValidTokenOfAKeyInTheSetIdentifiesItsSubject() throws Exception {
    for (JWSAlgorithm alg : List.of(JWSAlgorithm.RS256, JWSAlgorithm.RS512, JWSAlgorithm.PS256)) {
      assertEquals(ALICE, verifier.identify(sign(rsa, alg, claims().build())), alg.getName());
    }
    assertEquals(ALICE, verifier.identify(sign(ec, JWSAlgorithm.ES256, claims().build())));
    // The fixture front-end tests use: its own key set file, a token for anyone.
    JwtVerifier ofFixture = JwtVerifier.from(
        TestIdentityProvider.settings(idp.writeJwks(folder.resolve("idp.json"))));
    assertEquals(Optional.of("bob"), ofFixture.identify(idp.token("bob")));
    // Several audiences, one of them this gateway's.
    assertEquals(ALICE,
        verifier.identify(rs256(claims().audience(List.of("other-app", AUDIENCE)))));
  }

  @Test
  void onlyTokensTypedAsJwtsOrAccessTokensAreAccepted() throws Exception {
    for (String type : List.of("JWT", "at+jwt", "secevent+jwt", "JOSE")) {
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("rsa-1")
          .type(new JOSEObjectType(type)).build(), claims().build());
      jwt.sign(new RSASSASigner(rsa));
      assertEquals(List.of("JWT", "at+jwt").contains(type) ? ALICE : NOBODY,
          verifier.identify(jwt.serialize()), type);
    }
    SignedJWT untyped = new SignedJWT(new JWSHeader(JWSAlgorithm.RS256), claims().build());
    untyped.sign(new RSASSASigner(rsa));
    assertEquals(ALICE, verifier.identify(untyped.serialize()), "no typ, no kid");
  }

  @Test
  void theIdentityClaimIsConfigurableAndMustBeAPrintableName() throws Exception {
    JwtVerifier byEmail = JwtVerifier.from(settings(jwks, "email"));
    String token = rs256(claims().claim("email", "alice@example.org"));
    assertEquals(Optional.of("alice@example.org"), byEmail.identify(token));
    assertEquals(NOBODY, byEmail.identify(valid()), "no email claim");
    assertEquals(NOBODY, byEmail.identify(
        rs256(claims().claim("email", 42))), "not a string");
    assertEquals(NOBODY, verifier.identify(
        rs256(claims().subject(null))), "no sub");
    // (nimbus reads a numeric sub as its text: the provider signed it.)
    for (Object bad : List.of("", "  ", "alice\nadmin", "x".repeat(257), List.of("alice"))) {
      assertEquals(NOBODY, verifier.identify(
          rs256(claims().claim("sub", bad))), "sub " + bad);
    }
  }

  @Test
  void expiredOrNotYetValidTokensAreRefusedWithinAMinuteOfSkew() throws Exception {
    Instant now = Instant.now();
    assertEquals(NOBODY, verifier.identify(
        rs256(claims().expirationTime(Date.from(now.minusSeconds(120))))), "expired");
    assertEquals(ALICE, verifier.identify(
        rs256(claims().expirationTime(Date.from(now.minusSeconds(20))))), "within the skew");
    assertEquals(NOBODY, verifier.identify(
        rs256(claims().notBeforeTime(Date.from(now.plusSeconds(120))))), "not yet valid");
    assertEquals(NOBODY, verifier.identify(rs256(claims().expirationTime(null))),
        "a token without exp would never expire: refused");
  }

  @Test
  void anotherIssuerOrAudienceIsRefused() throws Exception {
    assertEquals(NOBODY, verifier.identify(
        rs256(claims().issuer("https://evil.example.org"))));
    assertEquals(NOBODY, verifier.identify(
        rs256(claims().issuer(null))));
    assertEquals(NOBODY, verifier.identify(
        rs256(claims().audience("other-app"))));
    assertEquals(NOBODY, verifier.identify(
        rs256(claims().audience((String) null))));
  }

  @Test
  void aKeyOutsideTheSetIsRefusedEvenUnderAKnownKeyId() throws Exception {
    assertEquals(NOBODY, verifier.identify(sign(stranger, JWSAlgorithm.RS256, claims().build())));
    RSAKey unnamed = new RSAKey.Builder(stranger).keyID(null).build();
    assertEquals(NOBODY, verifier.identify(sign(unnamed, JWSAlgorithm.RS256, claims().build())));
    // The EC key's id on an RSA signature: the key type must fit the algorithm.
    RSAKey asEc = new RSAKey.Builder(rsa).keyID("ec-1").build();
    assertEquals(NOBODY, verifier.identify(sign(asEc, JWSAlgorithm.RS256, claims().build())));
  }

  @Test
  void unsignedHmacAndEncryptedTokensAreRefused() throws Exception {
    String none = new PlainJWT(claims().build()).serialize();
    assertTrue(JwtVerifier.looksLikeJwt(none));
    assertEquals(NOBODY, verifier.identify(none), "alg none");
    // A valid token whose header is swapped for alg none, its signature dropped or kept.
    String[] parts = valid().split("\\.");
    String noneHeader = Base64URL.encode("{\"alg\":\"none\"}").toString();
    assertEquals(NOBODY, verifier.identify(noneHeader + "." + parts[1] + "."));
    assertEquals(NOBODY, verifier.identify(noneHeader + "." + parts[1] + "." + parts[2]));
    assertEquals(NOBODY, verifier.identify(parts[0] + "." + parts[1] + "."), "no signature");

    // Algorithm confusion: HS256 keyed with the public key's bytes, which anyone has.
    byte[] der = rsa.toRSAPublicKey().getEncoded();
    String pem = "-----BEGIN PUBLIC KEY-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END PUBLIC KEY-----\n";
    for (byte[] secret : List.of(der, pem.getBytes(StandardCharsets.US_ASCII),
        rsa.toPublicJWK().toJSONString().getBytes(StandardCharsets.UTF_8))) {
      SignedJWT hmac = new SignedJWT(
          new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("rsa-1").build(), claims().build());
      hmac.sign(new MACSigner(secret));
      assertEquals(NOBODY, verifier.identify(hmac.serialize()), "HS256 confusion");
    }
    // A shared key in the set is never used: HMAC is not an allowed algorithm at all.
    OctetSequenceKey shared = new OctetSequenceKeyGenerator(256).keyID("hmac-1").generate();
    Files.writeString(jwks, new JWKSet(List.of(rsa.toPublicJWK(), shared)).toString(false));
    Files.setLastModifiedTime(jwks, FileTime.from(Instant.now().plusSeconds(5)));
    SignedJWT hmac = new SignedJWT(
        new JWSHeader.Builder(JWSAlgorithm.HS256).keyID("hmac-1").build(), claims().build());
    hmac.sign(new MACSigner(shared));
    assertEquals(NOBODY, verifier.identify(hmac.serialize()));
    assertEquals(ALICE, verifier.identify(valid()), "the RSA key still works");
  }

  @Test
  void anOverLongTokenIsRefusedBeforeParsing() throws Exception {
    String filler = "x".repeat(JwtVerifier.MAX_TOKEN_CHARS);
    String fits = rs256(claims().claim("filler", filler.substring(0, 4000)));
    assertTrue(fits.length() < JwtVerifier.MAX_TOKEN_CHARS);
    assertEquals(ALICE, verifier.identify(fits));
    String tooLong = rs256(claims().claim("filler", filler));
    assertTrue(tooLong.length() > JwtVerifier.MAX_TOKEN_CHARS);
    assertEquals(NOBODY, verifier.identify(tooLong));
    assertEquals(NOBODY, verifier.identify("a.b." + "c".repeat(10_000_000)));
  }

  @Test
  void fuzzedAndMutatedTokensIdentifyNobodyAndNeverThrow() throws Exception {
    Random random = new Random(14);
    String token = valid();
    String alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ {}\"\u00e9\u0000";
    List<UnaryOperator<String>> mutations = List.of(
        t -> replaceAt(t, random.nextInt(t.length()),
            alphabet.charAt(random.nextInt(alphabet.length()))),
        t -> t.substring(0, random.nextInt(t.length())),
        t -> t + "." + t,
        t -> t.replace('.', random.nextBoolean() ? '_' : '-'),
        t -> encodedJson(random) + "." + t.split("\\.")[1] + "." + t.split("\\.")[2],
        t -> t.split("\\.")[0] + "." + encodedJson(random) + "." + t.split("\\.")[2]);
    long deadline = System.nanoTime() + 60_000_000_000L;
    int identified = 0;
    for (int i = 0; i < 2_000 && System.nanoTime() < deadline; i++) {
      String fuzzed = i % 2 == 0
          ? randomString(random, alphabet, random.nextInt(400))
          : mutations.get(random.nextInt(mutations.size())).apply(token);
      Optional<String> identity = verifier.identify(fuzzed);
      if (identity.isPresent()) {
        // Only a change that leaves every signed byte as it was: the signature's unused bits.
        String[] parts = fuzzed.split("\\.");
        assertEquals(token.substring(0, token.lastIndexOf('.')), parts[0] + "." + parts[1], fuzzed);
        assertArrayEquals(Base64URL.from(token.split("\\.")[2]).decode(),
            Base64URL.from(parts[2]).decode());
        identified++;
      }
    }
    assertTrue(identified < 20, identified + " mutated tokens identified");
    // Deeply nested JSON in the header and in the claims.
    String nested = Base64URL.encode("[".repeat(3000)).toString();
    assertEquals(NOBODY, verifier.identify(nested + "." + nested + ".AAAA"));
    assertEquals(NOBODY, verifier.identify(token.split("\\.")[0] + "." + nested + ".AAAA"));
    for (String odd : new String[] {null, "", ".", "..", "a.b.c", "pyml_0123456789ab_secret"}) {
      assertEquals(NOBODY, verifier.identify(odd));
    }
  }

  static String replaceAt(String text, int index, char c) {
    return text.substring(0, index) + c + text.substring(index + 1);
  }

  static String randomString(Random random, String alphabet, int length) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < length; i++) {
      text.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return text.toString();
  }

  /** A header or claims part of odd JSON: wrong types, huge numbers, odd algorithms. */
  static String encodedJson(Random random) {
    String[] bits = {"{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}", "{\"alg\":null}", "{\"alg\":[1,2]}",
        "{\"alg\":\"RS256\",\"crit\":[\"exp\"]}", "{\"alg\":\"RS256\",\"jwk\":{\"kty\":\"RSA\"}}",
        "{\"alg\":\"HS256\"}", "{\"alg\":\"dir\",\"enc\":\"A128GCM\"}", "{\"exp\":1e999999}",
        "{\"sub\":\"alice\",\"iss\":\"" + ISSUER + "\",\"aud\":\"" + AUDIENCE
            + "\",\"exp\":99999999999}",
        "{\"exp\":\"tomorrow\",\"aud\":{}}", "null", "[]", "\"text\"", "{", "{\"a\":\"\\ud800\"}"};
    return Base64URL.encode(bits[random.nextInt(bits.length)]).toString();
  }

  @Test
  void theKeySetFileIsReReadWhenItChangesAndABrokenOneKeepsTheLastKeys() throws Exception {
    RSAKey next = new RSAKeyGenerator(2048).keyID("rsa-2").generate();
    String byNext = sign(next, JWSAlgorithm.RS256, claims().build());
    assertEquals(NOBODY, verifier.identify(byNext));
    Files.writeString(jwks, new JWKSet(List.of(next.toPublicJWK())).toString());
    Files.setLastModifiedTime(jwks, FileTime.from(Instant.now().plusSeconds(5)));
    assertEquals(ALICE, verifier.identify(byNext), "the rotated key");
    assertEquals(NOBODY, verifier.identify(valid()), "the key rotated out");

    Files.writeString(jwks, "{\"keys\": [");
    Files.setLastModifiedTime(jwks, FileTime.from(Instant.now().plusSeconds(10)));
    assertEquals(ALICE, verifier.identify(byNext), "kept across a broken file");
    Files.delete(jwks);
    assertEquals(ALICE, verifier.identify(byNext), "kept across a missing file");
  }

  @Test
  void aKeySetFileThatIsNotOneStopsStartUpNamingTheFlag() throws Exception {
    Path broken = folder.resolve("broken.json");
    OctetSequenceKey shared = new OctetSequenceKeyGenerator(256).generate();
    for (String text : List.of("not json", "{\"keys\": 3}", new JWKSet(shared).toString(false))) {
      Files.writeString(broken, text);
      IOException e =
          assertThrows(IOException.class, () -> JwtVerifier.from(settings(broken, "sub")));
      assertTrue(e.getMessage().startsWith("--jwt-jwks-file " + broken), e.getMessage());
    }
    IOException missing = assertThrows(IOException.class,
        () -> JwtVerifier.from(settings(folder.resolve("absent.json"), "sub")));
    assertTrue(missing.getMessage().startsWith("--jwt-jwks-file"), missing.getMessage());
  }

  @Test
  void anAcceptedTokenIsTrustedForAMinuteAtMostAndNeverPastItsExpiry() throws Exception {
    AtomicInteger checks = new AtomicInteger(); // each signature check looks its key up once
    JWKSet keys = new JWKSet(rsa.toPublicJWK());
    MovingClock clock = new MovingClock();
    JwtVerifier cached = new JwtVerifier((selector, context) -> {
      checks.incrementAndGet();
      return selector.select(keys);
    }, TestIdentityProvider.settings(jwks), clock, JwtVerifier.MAX_VERIFIED_TOKENS);

    String token = rs256(claims().expirationTime(Date.from(clock.instant().plusSeconds(600))));
    for (int i = 0; i < 10; i++) {
      assertEquals(ALICE, cached.identify(token));
    }
    assertEquals(1, checks.get(), "checked once, then remembered");
    clock.advance(Duration.ofSeconds(61));
    assertEquals(ALICE, cached.identify(token));
    assertEquals(2, checks.get(), "checked again after a minute");

    String shortLived = rs256(claims().expirationTime(Date.from(clock.instant().plusSeconds(30))));
    assertEquals(ALICE, cached.identify(shortLived));
    clock.advance(Duration.ofSeconds(40));
    assertEquals(ALICE, cached.identify(shortLived), "past exp but within the skew");
    assertEquals(4, checks.get(), "remembered until its exp only");
    clock.advance(Duration.ofSeconds(60));
    assertEquals(NOBODY, cached.identify(shortLived), "expired");
    assertEquals(NOBODY, cached.identify(token.substring(0, token.length() - 4) + "AAAA"),
        "only the exact token is remembered");
  }

  @Test
  void theRememberedTokensAreBounded() {
    VerifiedTokens tokens = new VerifiedTokens(8);
    Instant now = Instant.now();
    for (int i = 0; i < 20; i++) {
      tokens.put("token-" + i, "alice", now.plusSeconds(60));
      assertTrue(tokens.size() <= 8, tokens.size() + " remembered");
    }
    assertEquals(Optional.of("alice"), tokens.get("token-19", now));
    assertEquals(Optional.empty(), tokens.get("token-19", now.plusSeconds(60)), "until, excluded");
    assertEquals(Optional.empty(), tokens.get("token-0", now), "emptied when full");
  }

  @Test
  void onlyTheCompactFormLooksLikeAJwt() throws Exception {
    assertTrue(JwtVerifier.looksLikeJwt(valid()));
    assertFalse(JwtVerifier.looksLikeJwt("pyml_0123456789ab_" + "A".repeat(43)));
    assertFalse(JwtVerifier.looksLikeJwt("a.b"));
    assertFalse(JwtVerifier.looksLikeJwt("a.b.c.d.e"), "JWE (encrypted) has five parts");
    assertFalse(JwtVerifier.looksLikeJwt(null));
  }

  /** A verifier whose key set is at http://127.0.0.1:port/jwks.json. */
  static JwtVerifier fromUrl(int port) throws IOException {
    URI url = URI.create("http://127.0.0.1:" + port + "/jwks.json");
    return JwtVerifier.from(
        new JwtSettings(Optional.empty(), Optional.of(url), ISSUER, AUDIENCE, "sub"));
  }

  static HttpServer loopbackServer() throws IOException {
    return HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
  }

  @Test
  @Timeout(60) // a guard against a hang, not a measurement
  void aKeySetUrlOnLoopbackIsCachedAndRefetchedForANewKeyAtARateLimit() throws Exception {
    AtomicInteger fetches = new AtomicInteger();
    AtomicReference<JWKSet> served = new AtomicReference<>(new JWKSet(List.of(rsa, ec)));
    HttpServer server = loopbackServer();
    server.createContext("/jwks.json", exchange -> {
      fetches.incrementAndGet();
      byte[] body = served.get().toString().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      exchange.getResponseBody().write(body);
      exchange.close();
    });
    server.start();
    try {
      JwtVerifier byUrl = fromUrl(server.getAddress().getPort());
      assertEquals(0, fetches.get(), "nothing is fetched before the first token");
      for (int i = 0; i < 5; i++) {
        assertEquals(ALICE, byUrl.identify(valid()));
        assertEquals(ALICE, byUrl.identify(sign(ec, JWSAlgorithm.ES256, claims().build())));
      }
      assertEquals(NOBODY, byUrl.identify(sign(stranger, JWSAlgorithm.RS256, claims().build())));
      assertEquals(1, fetches.get(), "the key set is cached");

      // The provider rotates in a key: its first token's unknown key id fetches the set again.
      RSAKey next = new RSAKeyGenerator(2048).keyID("rsa-2").generate();
      served.set(new JWKSet(List.of(rsa, ec, next)));
      assertEquals(ALICE, byUrl.identify(sign(next, JWSAlgorithm.RS256, claims().build())));
      int afterRotation = fetches.get();
      assertEquals(2, afterRotation);
      // Forged tokens under made-up key ids do not make the gateway flood the provider.
      for (int i = 0; i < 50; i++) {
        RSAKey forged = new RSAKey.Builder(stranger).keyID("forged-" + i).build();
        assertEquals(NOBODY, byUrl.identify(sign(forged, JWSAlgorithm.RS256, claims().build())));
      }
      assertTrue(fetches.get() <= afterRotation + 1, fetches.get() + " fetches");
    } finally {
      server.stop(0);
    }
  }

  @Test
  @Timeout(60) // a guard against a hang, not a measurement
  void anUnreachableSilentOrOversizedKeySetUrlIdentifiesNobody() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    assertEquals(NOBODY, fromUrl(closedPort).identify(valid()));

    // Accepts the connection and never answers: the read timeout ends the wait.
    List<Socket> held = new CopyOnWriteArrayList<>();
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> {
        try {
          while (true) {
            held.add(silent.accept());
          }
        } catch (IOException closed) {
          // the test is over
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      assertEquals(Optional.empty(),
          fromUrl(silent.getLocalPort()).identify(valid()));
    } finally {
      for (Socket socket : held) {
        socket.close();
      }
    }

    // A key set over the size limit is not read to its end.
    byte[] huge = ("{\"keys\":[" + " ".repeat(JwtVerifier.MAX_JWKS_BYTES) + "]}")
        .getBytes(StandardCharsets.UTF_8);
    HttpServer server = loopbackServer();
    server.createContext("/", exchange -> {
      exchange.sendResponseHeaders(200, huge.length);
      try {
        exchange.getResponseBody().write(huge);
      } catch (IOException reset) {
        // the client stopped reading at its limit
      }
      exchange.close();
    });
    server.start();
    try {
      assertEquals(Optional.empty(),
          fromUrl(server.getAddress().getPort()).identify(valid()));
    } finally {
      server.stop(0);
    }
  }
}
