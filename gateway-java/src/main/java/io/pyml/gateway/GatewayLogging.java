package io.pyml.gateway;

import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/** java.util.logging set-up for the gateway process: one line per record, on stderr. */
final class GatewayLogging {
  /**
   * grpc-java asks for SO_KEEPALIVE on every client channel, and netty warns on each Unix
   * socket connection that the option does not apply. Held here: JUL keeps loggers weakly.
   */
  private static final Logger NETTY_BOOTSTRAP =
      Logger.getLogger("io.grpc.netty.shaded.io.netty.bootstrap");
  /**
   * Libraries that log through slf4j (now bound to JUL) say at INFO what the gateway's own
   * lines already say (Jetty's start, Arrow's allocator choice, Flyway's migration steps of
   * the identity store): only their warnings show.
   */
  private static final Logger[] LIBRARIES = {
    Logger.getLogger("org.eclipse.jetty"),
    Logger.getLogger("org.apache.arrow"),
    Logger.getLogger("org.apache.thrift"),
    Logger.getLogger("com.github.dockerjava"),
    Logger.getLogger("org.flywaydb"),
  };

  private GatewayLogging() {}

  /**
   * JUL's own shutdown hook closes every handler while the gateway's hook still logs how it
   * stops (drain, containers): this manager ignores that reset; {@link #flush} ends the logging.
   * Named by the {@code java.util.logging.manager} property before JUL is first used (by
   * {@link Main}: this class's own loggers are made when it is initialized).
   */
  public static final class KeptLogManager extends LogManager {
    @Override
    public void reset() {
      // Kept: the handlers live as long as the process (see the class comment).
    }
  }

  /** Flushes every handler of the root logger (the last thing a stopping gateway does). */
  static void flush() {
    for (Handler handler : Logger.getLogger("").getHandlers()) {
      handler.flush();
    }
  }

  static void configure() {
    // Read when the first handler is made: set before anything logs. Stdout stays free for
    // the ready line.
    System.setProperty("java.util.logging.SimpleFormatter.format",
        "%1$tF %1$tT %4$s %3$s: %5$s%6$s%n");
    NETTY_BOOTSTRAP.setLevel(Level.SEVERE);
    for (Logger library : LIBRARIES) {
      library.setLevel(Level.WARNING);
    }
  }
}
