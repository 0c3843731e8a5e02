package io.pyml.gateway.config;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Secure by default: a gateway without identities lets whoever reaches one of its ports
 * deploy models (and so run their code) and call every model. It therefore serves a loopback
 * address only, unless it was started with the explicit development flag
 * {@code --insecure-no-auth true}. Once identities exist (a token was made, or JWTs are
 * verified), every call must carry a token and any address may be served.
 */
public final class Exposure {
  private Exposure() {}

  /** The start-up line that says who can reach the gateway; refuses an exposed host. */
  public static String check(GatewayConfig config, boolean identities) throws IOException {
    String host = config.host();
    if (identities) {
      return "authentication is on: every call needs a token; serving on " + host;
    }
    if (isLoopback(host)) {
      return "no identities are configured: serving on " + host
          + " (loopback) only, to this machine's own users, each of them a gateway admin; the"
          + " first token (pyml tokens create NAME --admin) turns authentication on";
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
