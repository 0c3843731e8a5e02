package io.pyml.gateway.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  @Test
  void backoffDoublesFromHalfASecondAndIsCapped() {
    RetryPolicy policy = RetryPolicy.within(Duration.ofMinutes(3));
    assertEquals(Duration.ofMillis(500), policy.backoff(1));
    assertEquals(Duration.ofSeconds(1), policy.backoff(2));
    assertEquals(Duration.ofSeconds(8), policy.backoff(5));
    assertEquals(Duration.ofSeconds(10), policy.backoff(6), "capped");
    assertEquals(Duration.ofSeconds(10), policy.backoff(1000), "no overflow");
  }

  @Test
  void retriesUntilTheWindowIsSpentThenGivesUp() {
    RetryPolicy policy = RetryPolicy.within(Duration.ofSeconds(20));
    // A 16 s Docker outage: 0.5 + 1 + 2 + 4 + 8 s of pauses, then a try 4.5 s later at most.
    Duration failing = Duration.ZERO;
    int failures = 0;
    while (true) {
      failures++;
      Optional<Duration> next = policy.next(failures, failing);
      if (next.isEmpty()) {
        break;
      }
      failing = failing.plus(next.get());
    }
    assertEquals(Duration.ofSeconds(20), failing, "the last pause is clipped to the window");
    assertEquals(7, failures, "6 retries in 20 s, then FAILED");
  }

  @Test
  void aZeroWindowFailsAtOnce() {
    assertEquals(Optional.empty(), RetryPolicy.within(Duration.ZERO).next(1, Duration.ZERO));
  }
}
