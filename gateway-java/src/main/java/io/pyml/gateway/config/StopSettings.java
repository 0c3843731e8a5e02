package io.pyml.gateway.config;

import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * What the gateway does on SIGTERM or SIGINT (every entry point: the jar, {@code pyml gateway},
 * its container): it stops accepting calls at once, lets the calls in flight finish within
 * {@code grace}, then deals with its model containers as {@code onStop} says.
 *
 * @param grace how long calls in flight may take to finish before they are cut; a supervisor
 *     must wait longer than this before it kills the gateway (systemd's TimeoutStopSec,
 *     {@code docker stop -t}, Kubernetes' terminationGracePeriodSeconds)
 * @param onStop {@link OnStop#STOP} (default) or {@link OnStop#LEAVE}
 */
public record StopSettings(Duration grace, OnStop onStop) {
  /** Kubernetes' default terminationGracePeriodSeconds. */
  public static final Duration DEFAULT_GRACE = Duration.ofSeconds(30);
  public static final StopSettings DEFAULTS = new StopSettings(DEFAULT_GRACE, OnStop.STOP);

  /** What becomes of the model containers once the calls in flight are done. */
  public enum OnStop {
    /**
     * Stop and remove them (the default): a stopped gateway leaves nothing running, so an
     * operator who stops it for good, or moves it elsewhere, has nothing to clean up.
     */
    STOP,
    /**
     * Leave them running: the next gateway with the same id and state folder adopts them (as
     * it adopts those a crash left), so a restart or upgrade of the gateway does not reload
     * the models. Home-folder runtimes (local processes, never recorded) are stopped anyway.
     */
    LEAVE;

    public static OnStop parse(String text) {
      return switch (text.strip().toLowerCase(Locale.ROOT)) {
        case "stop" -> STOP;
        case "leave" -> LEAVE;
        default -> throw new IllegalArgumentException(
            "on-stop '" + text + "' (expected: stop or leave)");
      };
    }

    /** As the flag spells it. */
    public String flagValue() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public StopSettings {
    Objects.requireNonNull(grace, "grace");
    Objects.requireNonNull(onStop, "onStop");
    if (grace.isNegative()) {
      throw new IllegalArgumentException("shutdown grace must not be negative: " + grace);
    }
  }
}
