package io.pyml.gateway.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.sidecar.SidecarClient;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The admission queue's placing and gathering of calls, with one replica and no runtime. */
class AdmissionQueueTest {
  private static final Duration LONG = Duration.ofSeconds(30);

  /** What the queue sent: each send's calls, and the bytes it reserved. */
  private final List<List<String>> sent = new CopyOnWriteArrayList<>();
  private final List<Long> sentBytes = new CopyOnWriteArrayList<>();
  /** How many calls a batch may wait for: by default, as many as the gathering allows. */
  private volatile int share = Integer.MAX_VALUE;

  private Replica replica(int calls, long bytes) {
    Replica replica = new Replica("m", 0, calls, bytes);
    // A client whose channel is never used: the queue only asks how many workers it has.
    replica.attach(new Replica.Runtime(null, new SidecarClient("m",
        NettyChannelBuilder.forAddress("localhost", 1).usePlaintext().build())));
    replica.markReady();
    return replica;
  }

  private AdmissionQueue<String> queue(Replica replica, AdmissionQueue.Gathering gathering) {
    AdmissionQueue<String> queue = new AdmissionQueue<>("m", 32, 1 << 20,
        bytes -> replica.tryReserve(bytes) ? replica : null, () -> share, (placed, calls) -> {
          sent.add(calls.stream().map(AdmissionQueue.Admitted::call).toList());
          sentBytes.add(calls.stream().mapToLong(AdmissionQueue.Admitted::bytes).sum());
        });
    queue.gather(gathering);
    return queue;
  }

  /** The runtime answered the last send: its room is given back. */
  private void finishLast(Replica replica, AdmissionQueue<String> queue) {
    replica.unreserve(sentBytes.get(sentBytes.size() - 1));
    queue.roomFreed();
  }

  @Test
  void withoutGatheringCallsGoOneByOneInArrivalOrder() {
    Replica replica = replica(1, 1000);
    AdmissionQueue<String> queue = queue(replica, AdmissionQueue.Gathering.ONE_AT_A_TIME);
    for (String call : List.of("a", "b", "c")) {
      queue.admit(call, 10, LONG);
    }
    assertEquals(List.of(List.of("a")), sent);
    assertEquals(2, queue.length());
    finishLast(replica, queue);
    finishLast(replica, queue);
    assertEquals(List.of(List.of("a"), List.of("b"), List.of("c")), sent);
  }

  @Test
  void callsThatWaitWhileTheRuntimeIsBusyGoTogetherUpToTheCap() {
    Replica replica = replica(1, 1000);
    AdmissionQueue<String> queue = queue(replica,
        new AdmissionQueue.Gathering(3, 1000, Duration.ZERO));
    for (String call : List.of("a", "b", "c", "d", "e")) {
      queue.admit(call, 10, LONG);
    }
    assertEquals(List.of(List.of("a")), sent, "an idle runtime takes the first call at once");
    finishLast(replica, queue);
    assertEquals(List.of("b", "c", "d"), sent.get(1));
    assertEquals(30, replica.bytesInFlight(), "the batch's bytes are reserved");
    assertEquals(1, replica.inFlight(), "a batch is one call to the runtime");
    finishLast(replica, queue);
    assertEquals(List.of("e"), sent.get(2));
  }

  @Test
  void aBatchStaysWithinTheReplicasAndTheBatchsByteBudget() {
    Replica replica = replica(1, 100);
    AdmissionQueue<String> queue = queue(replica,
        new AdmissionQueue.Gathering(10, 1000, Duration.ZERO));
    for (String call : List.of("a", "b", "c", "d")) {
      queue.admit(call, 40, LONG);
    }
    finishLast(replica, queue);
    assertEquals(List.of("b", "c"), sent.get(1), "a third 40-byte call would pass 100 bytes");

    Replica roomy = replica(1, 1000);
    AdmissionQueue<String> capped = queue(roomy,
        new AdmissionQueue.Gathering(10, 50, Duration.ZERO));
    sent.clear();
    sentBytes.clear();
    for (String call : List.of("a", "b", "c")) {
      capped.admit(call, 30, LONG);
    }
    finishLast(roomy, capped);
    assertEquals(List.of("b"), sent.get(1), "two 30-byte calls would pass the batch's 50");
  }

  @Test
  void aDelayHoldsANotFullBatchButNotAFullOne() {
    Replica replica = replica(1, 1000);
    AdmissionQueue<String> queue = queue(replica,
        new AdmissionQueue.Gathering(3, 1000, Duration.ofMinutes(1)));
    queue.admit("a", 10, LONG);
    queue.admit("b", 10, LONG);
    assertEquals(List.of(), sent, "not full: held for more calls");
    queue.admit("c", 10, LONG);
    assertEquals(List.of(List.of("a", "b", "c")), sent, "full: sent at once");
  }

  @Test
  void aBatchWaitsForItsShareOfTheLoadAndNoLonger() {
    Replica replica = replica(1, 1000);
    AdmissionQueue<String> queue = queue(replica,
        new AdmissionQueue.Gathering(64, 1000, Duration.ofMinutes(1)));
    share = 3;
    queue.admit("a", 10, LONG);
    queue.admit("b", 10, LONG);
    assertEquals(List.of(), sent, "two calls of a share of three: held");
    queue.admit("c", 10, LONG);
    assertEquals(List.of(List.of("a", "b", "c")), sent, "its share arrived: sent at once");
    for (String call : List.of("d", "e", "f", "g")) {
      queue.admit(call, 10, LONG);
    }
    finishLast(replica, queue);
    assertEquals(List.of("d", "e", "f", "g"), sent.get(1),
        "the calls that gathered meanwhile go together, past the share");
  }

  @Test
  void withNoConcurrentLoadACallNeverWaits() {
    Replica replica = replica(1, 1000);
    AdmissionQueue<String> queue = queue(replica,
        new AdmissionQueue.Gathering(64, 1000, Duration.ofMinutes(1)));
    share = 1;
    queue.admit("a", 10, LONG);
    assertEquals(List.of(List.of("a")), sent, "an idle runtime takes a lone call at once");
    queue.admit("b", 10, LONG);
    finishLast(replica, queue);
    assertEquals(List.of("b"), sent.get(1), "and the runtime that frees takes the next");
  }

  @Test
  void aFullQueueSendsItsHeldBatchRatherThanRefuseTheNextCall() {
    Replica replica = replica(1, 1000);
    AdmissionQueue<String> queue = new AdmissionQueue<>("m", 2, 1 << 20,
        bytes -> replica.tryReserve(bytes) ? replica : null, () -> share, (placed, calls) ->
            sent.add(calls.stream().map(AdmissionQueue.Admitted::call).toList()));
    queue.gather(new AdmissionQueue.Gathering(64, 1000, Duration.ofMinutes(1)));
    queue.admit("a", 10, LONG);
    queue.admit("b", 10, LONG);
    assertEquals(List.of(List.of("a", "b")), sent, "the queue is full: the batch goes");
    assertTrue(!queue.admit("c", 10, LONG).isCompletedExceptionally(), "c waits, not refused");
  }

  @Test
  void aHeldBatchIsSentWhenItsDelayIsUp() throws Exception {
    Replica replica = replica(1, 1000);
    AdmissionQueue<String> queue = queue(replica,
        new AdmissionQueue.Gathering(8, 1000, Duration.ofMillis(20)));
    CompletableFuture<Void> a = queue.admit("a", 10, LONG);
    CompletableFuture<Void> b = queue.admit("b", 10, LONG);
    CompletableFuture.allOf(a, b).get(10, TimeUnit.SECONDS);
    assertEquals(List.of(List.of("a", "b")), sent);
  }

  @Test
  void aWaitingCallExpiresOnItsOwnDeadlineAndIsNeverSent() throws Exception {
    Replica replica = replica(1, 1000);
    AdmissionQueue<String> queue = queue(replica,
        new AdmissionQueue.Gathering(8, 1000, Duration.ZERO));
    queue.admit("a", 10, LONG);
    CompletableFuture<Void> late = queue.admit("b", 10, Duration.ofMillis(1));
    queue.admit("c", 10, LONG);
    ExecutionException error = org.junit.jupiter.api.Assertions.assertThrows(
        ExecutionException.class, () -> late.get(10, TimeUnit.SECONDS));
    GatewayException cause = assertInstanceOf(GatewayException.class, error.getCause());
    assertEquals(ErrorKind.DEADLINE_EXCEEDED, cause.kind());
    finishLast(replica, queue);
    assertEquals(List.of("c"), sent.get(1));
    assertTrue(queue.length() == 0);
  }

  @Test
  void aFullQueueRefusesAtOnce() {
    Replica replica = replica(1, 1000);
    AdmissionQueue<String> queue = new AdmissionQueue<>("m", 1, 1 << 20,
        bytes -> replica.tryReserve(bytes) ? replica : null, () -> share, (placed, calls) -> { });
    queue.admit("a", 10, LONG);
    queue.admit("b", 10, LONG);
    CompletableFuture<Void> refused = queue.admit("c", 10, LONG);
    assertTrue(refused.isCompletedExceptionally());
    assertEquals(1, queue.rejections());
  }
}
