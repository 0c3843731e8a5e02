package io.pyml.gateway.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The calls in flight's recent peak: what batching expects a batch to gather. */
class CallsInFlightTest {
  private static final Duration LONG = Duration.ofSeconds(30);

  @Test
  void thePeakIsTheMostCallsAtOnceNotTheCallsNow() {
    CallsInFlight calls = new CallsInFlight(Duration.ofMinutes(1));
    for (int i = 0; i < 8; i++) {
      calls.enter(LONG);
    }
    for (int i = 0; i < 6; i++) {
      calls.exit();
    }
    assertEquals(8, calls.recentPeak(), "answered calls come back: the load is still 8");
  }

  @Test
  void aLoadThatStoppedIsForgottenWithinTwoWindows() throws InterruptedException {
    CallsInFlight calls = new CallsInFlight(Duration.ofMillis(20));
    for (int i = 0; i < 8; i++) {
      calls.enter(LONG);
    }
    for (int i = 0; i < 7; i++) {
      calls.exit();
    }
    Thread.sleep(50);
    assertEquals(1, calls.recentPeak(), "only the call still in flight is left");
    calls.exit();
    Thread.sleep(50);
    assertEquals(0, calls.recentPeak());
  }
}
