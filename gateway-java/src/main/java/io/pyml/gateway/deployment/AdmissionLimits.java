package io.pyml.gateway.deployment;

import io.pyml.gateway.sidecar.ResourceLimits;
import java.time.Duration;
import java.util.Objects;

/**
 * What one replica's runtime is given at once, and how long calls wait for it.
 *
 * <p>The bytes budget is a share of the runtime's memory limit (one for all its workers): a
 * call's Arrow payload is held several times over inside the runtime (gRPC's buffer, the request message, the decoded
 * table, the pandas frame the model gets, the output and its encoding). Measured with the
 * breast-cancer example in a 1 GiB container (tests/security/test_load.py): one 60 MiB call
 * alone peaked the container at 401 MiB, two at once (the 128 MiB budget of 1 GiB / 8) at
 * 662 MiB; 16 such calls sent at once without admission starved or OOM-killed it. One call
 * is always admitted alone, whatever its size (the payload limit and the runtime's own
 * decoding budgets bound it), so no valid call is refused for good.
 *
 * @param callsPerWorker calls in flight at one runtime worker (a runtime with N workers is
 *     given N times as many); below a worker's own limit of concurrent predicts (6 of its 8
 *     threads), so its health checks stay answerable
 * @param memoryDivisor bytes in flight at one runtime are at most its memory limit / this,
 *     divided by its runtime workers (each is a process with its own copies and peak)
 * @param queueCalls calls of one deployment that may wait for room at a runtime; beyond it a
 *     call is refused RESOURCE_EXHAUSTED at once
 * @param queueBytes payload bytes of one deployment that may wait (they are held by the
 *     gateway meanwhile)
 * @param hungCallGrace how long past its client's deadline a call may stay in the runtime
 *     before it is cancelled; a runtime that answered nothing since such a call was sent is
 *     stuck in model code and is replaced
 * @param defaultMemoryBytes the memory limit of a runtime whose deploy sets none: the
 *     gateway's container default (a development process runtime is budgeted alike)
 */
public record AdmissionLimits(int callsPerWorker, int memoryDivisor, int queueCalls,
    long queueBytes, Duration hungCallGrace, long defaultMemoryBytes) {
  public static final int DEFAULT_CALLS_PER_WORKER = 4;
  public static final int DEFAULT_MEMORY_DIVISOR = 8;
  public static final int DEFAULT_QUEUE_CALLS = 32;
  public static final long DEFAULT_QUEUE_BYTES = 256L * 1024 * 1024;
  public static final Duration DEFAULT_HUNG_CALL_GRACE = Duration.ofSeconds(10);
  public static final AdmissionLimits DEFAULTS = new AdmissionLimits(DEFAULT_CALLS_PER_WORKER,
      DEFAULT_MEMORY_DIVISOR, DEFAULT_QUEUE_CALLS, DEFAULT_QUEUE_BYTES, DEFAULT_HUNG_CALL_GRACE);

  /** With the default container memory limit. */
  public AdmissionLimits(int callsPerWorker, int memoryDivisor, int queueCalls, long queueBytes,
      Duration hungCallGrace) {
    this(callsPerWorker, memoryDivisor, queueCalls, queueBytes, hungCallGrace,
        ResourceLimits.DEFAULTS.memoryBytes());
  }

  public AdmissionLimits {
    Objects.requireNonNull(hungCallGrace, "hungCallGrace");
    if (callsPerWorker < 1 || memoryDivisor < 1 || queueCalls < 0 || queueBytes < 0
        || hungCallGrace.isNegative() || defaultMemoryBytes < 1) {
      throw new IllegalArgumentException("admission limits out of range: calls per replica "
          + callsPerWorker + ", memory divisor " + memoryDivisor + ", queue " + queueCalls
          + " calls / " + queueBytes + " bytes, hung-call grace " + hungCallGrace);
    }
  }

  /** The same limits for runtimes whose deploy sets no memory limit and so get {@code bytes}. */
  public AdmissionLimits forDefaultMemory(long bytes) {
    return new AdmissionLimits(callsPerWorker, memoryDivisor, queueCalls, queueBytes,
        hungCallGrace, bytes);
  }

  /**
   * The payload bytes one runtime worker with these (deploy request's) limits may hold at once:
   * a replica divides it by its runtime's workers.
   */
  public long bytesPerReplica(ResourceLimits limits) {
    long memory = limits.memoryBytes() > 0 ? limits.memoryBytes() : defaultMemoryBytes;
    return memory / memoryDivisor;
  }
}
