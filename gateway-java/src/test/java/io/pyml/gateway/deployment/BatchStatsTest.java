package io.pyml.gateway.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pyml.gateway.sidecar.RuntimeMetadata;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The gathering rule holds what a runtime (model code) reports to pyml.toml's bounds. */
class BatchStatsTest {
  @Test
  void aRuntimesReportedSettingsAreHeldToTheBoundsOfPymlToml() {
    AdmissionQueue.Gathering hostile = BatchStats.gathering(
        new RuntimeMetadata.Batching(true, Long.MAX_VALUE, Long.MAX_VALUE), Long.MAX_VALUE);
    assertEquals(BatchStats.MAX_BATCH_CALLS, hostile.maxCalls());
    assertEquals(BatchStats.MAX_BATCH_BYTES, hostile.maxBytes());
    assertEquals(Duration.ofMillis(BatchStats.MAX_DELAY_MS), hostile.maxDelay());

    AdmissionQueue.Gathering negative = BatchStats.gathering(
        new RuntimeMetadata.Batching(true, -5, -5), 1024);
    assertEquals(1, negative.maxCalls());
    assertEquals(1024, negative.maxBytes());
    assertEquals(Duration.ZERO, negative.maxDelay());
  }
}
