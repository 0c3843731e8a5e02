package io.pyml.gateway.config;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Without identities the gateway serves loopback only, unless a development flag says so. */
class ExposureTest {
  @Test
  void loopbackAddressesAreServed() throws IOException {
    for (String host : new String[] {"127.0.0.1", "localhost", "::1", "127.0.0.2"}) {
      assertTrue(Exposure.check(GatewayConfig.defaults().withHost(host), false)
          .startsWith("no identities are configured: serving on " + host), host);
    }
  }

  @Test
  void anyOtherHostIsRefusedWithTheFlagToUse() {
    for (String host : new String[] {"0.0.0.0", "::", "192.0.2.7"}) {
      IOException refused = assertThrows(IOException.class,
          () -> Exposure.check(GatewayConfig.defaults().withHost(host), false));
      assertTrue(refused.getMessage().startsWith("--host " + host + " is not a loopback "
          + "address and no identities are configured"), refused.getMessage());
      assertTrue(refused.getMessage().endsWith("add --insecure-no-auth true"));
    }
  }

  @Test
  void theDevelopmentFlagServesItAndSaysSo() throws Exception {
    GatewayConfig config = GatewayConfigParser.parse(
        new String[] {"--host", "0.0.0.0", "--insecure-no-auth", "true"}, Map.of());
    assertTrue(Exposure.check(config, false).startsWith("INSECURE (--insecure-no-auth): serving on "
        + "0.0.0.0 without identities"));
    ConfigException wrong = assertThrows(ConfigException.class, () -> GatewayConfigParser
        .parse(new String[] {"--insecure-no-auth", "yes"}, Map.of()));
    assertTrue(wrong.getMessage().contains("(expected: true or false)"), wrong.getMessage());
  }
}
