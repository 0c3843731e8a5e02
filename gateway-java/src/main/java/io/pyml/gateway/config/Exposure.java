package io.pyml.gateway.config;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Secure by default: the gateway has no identities yet, so whoever reaches one of its ports
 * may deploy models (and so run their code) and call every model. It therefore serves a
 * loopback address only, unless it was started with the explicit development flag
 * {@code --insecure-no-auth true}.
 */
public final class Exposure {
  private Exposure() {}

  /** The start-up line that says who can reach the gateway; refuses an exposed host. */
  public static String check(GatewayConfig config) throws IOException {
    String host = config.host();
    if (isLoopback(host)) {
      return "no identities are configured: serving on " + host
          + " (loopback) only, to this machine's own users";
    }
    if (config.insecureNoAuth()) {
      return "INSECURE (--insecure-no-auth): serving on " + host + " without identities: "
          + "anyone who reaches a port can deploy, undeploy and call every model";
    }
    throw new IOException("--host " + host + " is not a loopback address and no identities "
        + "are configured: anyone who reaches a port could deploy models and run their code. "
        + "Serve on 127.0.0.1 (the default), or, for development only, add "
        + "--insecure-no-auth true");
  }

  private static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false; // refused above, with the host named
    }
  }
}
