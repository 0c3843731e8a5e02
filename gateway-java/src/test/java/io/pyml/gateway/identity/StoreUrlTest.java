package io.pyml.gateway.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Passwords leave the URL before a driver, a log line or an error message sees it. */
class StoreUrlTest {
  @Test
  void passwordsInTheUrlBecomeConnectionPropertiesDecoded() {
    StoreUrl store = StoreUrl.of("jdbc:postgresql://db:5432/pyml?user=gw&password=p%26w%3D1"
        + "&ssl=true&sslpassword=k", Optional.empty());
    assertEquals("jdbc:postgresql://db:5432/pyml?user=gw&ssl=true", store.url());
    assertEquals(Map.of("password", "p&w=1", "sslpassword", "k"), store.secrets());
    assertEquals("p&w=1", store.properties().getProperty("password"));
    assertEquals(Optional.of("gw"), store.user());
    assertFalse(store.toString().contains("p&w"), store.toString());
  }

  @Test
  void aPasswordGivenApartWinsAndAUrlWithoutSecretsIsKept() {
    StoreUrl store = StoreUrl.of("jdbc:postgresql://db/pyml?PASSWORD=old", Optional.of("new"));
    assertEquals("jdbc:postgresql://db/pyml", store.url());
    assertEquals(Map.of("password", "new"), store.secrets());
    String sqlite = "jdbc:sqlite:/var/lib/pyml/identities.db";
    assertEquals(new StoreUrl(sqlite, Map.of()), StoreUrl.of(sqlite, Optional.empty()));
    assertEquals(Optional.empty(), StoreUrl.of(sqlite, Optional.empty()).user());
  }

  @Test
  void maskedHidesEveryPasswordInAText() {
    assertEquals("cannot reach jdbc:postgresql://db/p?user=gw&password=***&ssl=true",
        StoreUrl.masked("cannot reach jdbc:postgresql://db/p?user=gw&password=s3cret&ssl=true"));
    assertEquals("jdbc:postgresql://gw:***@db/p?sslPassword=***",
        StoreUrl.masked("jdbc:postgresql://gw:s3cret@db/p?sslPassword=k3y"));
    assertEquals("jdbc:sqlite:/tmp/x.db", StoreUrl.masked("jdbc:sqlite:/tmp/x.db"));
  }
}
