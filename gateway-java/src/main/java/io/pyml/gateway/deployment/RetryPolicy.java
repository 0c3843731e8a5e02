package io.pyml.gateway.deployment;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How a replica rides out failed starts that are not the model's fault (Docker away, the
 * container killed from outside while it loaded): capped exponential backoff, for at most
 * {@code window} from the first failure of a row. The last pause is clipped to the window, so
 * a start is tried once more right at its end; past it, the deployment is FAILED for good.
 */
record RetryPolicy(Duration window, Duration first, Duration max) {
  static final Duration FIRST_BACKOFF = Duration.ofMillis(500);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(10);

  RetryPolicy {
    Objects.requireNonNull(window, "window");
    Objects.requireNonNull(first, "first");
    Objects.requireNonNull(max, "max");
  }

  /** 0.5 s doubling to 10 s, within {@code window}. */
  static RetryPolicy within(Duration window) {
    return new RetryPolicy(window, FIRST_BACKOFF, MAX_BACKOFF);
  }

  /** The pause before try n+1 after n failures in a row: first, 2 * first, ... capped at max. */
  Duration backoff(int failuresInRow) {
    return doubled(first, max, failuresInRow - 1);
  }

  /** {@code first} doubled {@code times} times (none below 0), at most {@code max}. */
  static Duration doubled(Duration first, Duration max, int times) {
    long millis = first.toMillis() << Math.max(0, Math.min(times, 20));
    return Duration.ofMillis(Math.min(millis, max.toMillis()));
  }

  /**
   * The pause before the next try, or empty when the window is spent.
   *
   * @param failuresInRow failures since the last successful start (at least 1)
   * @param failingFor time since the first of them
   */
  Optional<Duration> next(int failuresInRow, Duration failingFor) {
    Duration left = window.minus(failingFor);
    if (left.isNegative() || left.isZero()) {
      return Optional.empty();
    }
    Duration pause = backoff(failuresInRow);
    return Optional.of(pause.compareTo(left) < 0 ? pause : left);
  }
}
