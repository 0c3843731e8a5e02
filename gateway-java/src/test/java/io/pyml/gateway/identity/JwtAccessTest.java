package io.pyml.gateway.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verifier behind the data plane's {@link Access}, as the gateway wires it: an identity
 * provider's users hold grants like token users, and a forged, foreign or expired JWT is
 * UNAUTHENTICATED, never an error of another kind.
 */
class JwtAccessTest {
  @TempDir
  Path folder;

  static Credentials bearer(String token) {
    return Credentials.fromAuthorization("Bearer " + token);
  }

  @Test
  void jwtUsersHoldGrantsLikeTokenUsersAndForgedOnesAreUnauthenticated() throws Exception {
    TestIdentityProvider idp = TestIdentityProvider.create();
    JwtVerifier verifier = JwtVerifier.from(
        TestIdentityProvider.settings(idp.writeJwks(folder.resolve("jwks.json"))));
    Instant now = Instant.now();
    try (JdbcIdentityStore store =
            JdbcIdentityStore.open("jdbc:sqlite:" + folder.resolve("identities.db"))) {
      store.addGatewayAdmin("root@example.org", "test", now);
      store.putGrant(new Grant("alice", "m", Permission.PREDICT, "root@example.org", now));
      try (Access access = new Access(store, Optional.of(verifier::identify), Clock.systemUTC())) {
        assertTrue(access.enabled(), "a configured key set turns authentication on");

        Caller alice = access.require(bearer(idp.token("alice")), "predict", "m", 0,
            Permission.PREDICT);
        assertEquals(new Caller("alice", false), alice);
        assertEquals(ErrorKind.PERMISSION_DENIED, refusal(() -> access.require(
            bearer(idp.token("alice")), "undeploy", "m", 0, Permission.DEPLOY)));
        assertEquals(new Caller("root@example.org", true),
            access.whoAmI(bearer(idp.token("root@example.org"))));

        // Another provider's key under the same key id; an expired token; a bad signature.
        String forged = TestIdentityProvider.create().sign(TestIdentityProvider.claims("root"));
        String expired = idp.sign(TestIdentityProvider.claims("alice")
            .expirationTime(Date.from(now.minusSeconds(600))));
        for (String token : new String[] {forged, expired, idp.token("alice") + "x",
            "a.b.c", "not-a-token"}) {
          assertEquals(ErrorKind.UNAUTHENTICATED, refusal(() -> access.require(
              bearer(token), "predict", "m", 0, Permission.PREDICT)), token);
        }
      }
    }
  }

  static ErrorKind refusal(Runnable call) {
    return assertThrows(GatewayException.class, call::run).kind();
  }
}
