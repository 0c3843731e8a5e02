package io.pyml.gateway.config;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The access log: one line per prediction request, on every protocol.
 *
 * @param destination {@link #OFF}, {@link #STDERR}, or the path of a file lines are appended to
 * @param json one JSON object per line; false: {@code key=value} pairs
 * @param sampleRate the share of successful calls logged, 0..1; failed calls are always logged
 *     (they are what an operator looks for, and a flood of them is what the writer's bounded
 *     queue is for)
 */
public record AccessLogSettings(String destination, boolean json, double sampleRate) {
  public static final String OFF = "off";
  public static final String STDERR = "stderr";
  /** Off by default: the gateway's own log stays readable; operators turn it on by setting. */
  public static final AccessLogSettings DEFAULTS = new AccessLogSettings(OFF, false, 1.0);

  public AccessLogSettings {
    Objects.requireNonNull(destination, "destination");
    destination = destination.strip();
    if (destination.isEmpty()) {
      throw new IllegalArgumentException("access-log is empty (expected: off, stderr or a file)");
    }
    if (!(sampleRate >= 0 && sampleRate <= 1)) {
      throw new IllegalArgumentException("access-log-sample-rate " + sampleRate
          + " is out of range (expected: 0 to 1)");
    }
  }

  public boolean enabled() {
    return !destination.toLowerCase(Locale.ROOT).equals(OFF);
  }

  /** The file lines go to; empty for stderr or off. */
  public Optional<Path> file() {
    String lower = destination.toLowerCase(Locale.ROOT);
    return lower.equals(OFF) || lower.equals(STDERR) ? Optional.empty()
        : Optional.of(Path.of(destination).toAbsolutePath());
  }
}
