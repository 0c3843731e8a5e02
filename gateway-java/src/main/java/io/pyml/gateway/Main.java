package io.pyml.gateway;

import io.pyml.gateway.config.ConfigException;
import io.pyml.gateway.config.GatewayConfig;
import io.pyml.gateway.config.GatewayConfigParser;
import io.pyml.gateway.core.GatewayVersion;
import io.pyml.gateway.sidecar.SidecarProtocol;
import java.io.IOException;
import java.util.Arrays;

/**
 * Wiring only: settings in, gateway started, one ready line out. SIGTERM and SIGINT (the JVM
 * turns both into its shutdown) run {@link Gateway#close}: no new calls, the calls in flight
 * finish within --shutdown-grace-ms, then the model containers are stopped or left (--on-stop).
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws InterruptedException {
    // First: read once, when java.util.logging starts (a class literal initializes nothing).
    System.setProperty("java.util.logging.manager",
        GatewayLogging.KeptLogManager.class.getName());
    GatewayLogging.configure();
    if (Arrays.asList(args).contains("--help")) {
      System.out.println(GatewayConfigParser.usage());
      return;
    }
    if (Arrays.asList(args).contains("--version")) { // e.g. for pyml doctor
      System.out.println("pyml-gateway " + GatewayVersion.current() + " (sidecar protocol "
          + SidecarProtocol.VERSION + ")");
      return;
    }
    GatewayConfig config;
    try {
      config = GatewayConfigParser.parse(args, System.getenv());
      if (GatewayConfigParser.printConfigRequested(args)) { // the settings are valid: show them
        System.out.print(GatewayConfigParser.describe(args, System.getenv()));
        return;
      }
    } catch (ConfigException e) {
      System.err.println("pyml-gateway: " + e.getMessage());
      System.err.println(GatewayConfigParser.usage());
      System.exit(2);
      return;
    }
    Gateway gateway;
    try {
      gateway = Gateway.start(config);
    } catch (IOException | RuntimeException e) {
      System.err.println("pyml-gateway: " + e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      gateway.close();
      GatewayLogging.flush();
    }, "pyml-gateway-stop"));
    // Tests and the SDK start the gateway with ports 0 and read the real ports from here.
    System.out.println("pyml-gateway ready grpc_port=" + gateway.grpcPort()
        + " thrift_port=" + gateway.thriftPort() + " oip_port=" + gateway.oipPort()
        + " http_port=" + gateway.httpPort());
    System.out.flush();
    gateway.awaitTermination();
  }
}
