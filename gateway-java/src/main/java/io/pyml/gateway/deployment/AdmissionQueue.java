package io.pyml.gateway.deployment;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Timeouts;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntSupplier;
import java.util.function.LongFunction;

/**
 * One deployment's calls waiting for room at a runtime, first in first out. A call is placed
 * at once when nothing waits and a replica has room; otherwise it waits, bounded by the
 * queue's length and bytes (beyond them it is refused RESOURCE_EXHAUSTED at once) and by its
 * own deadline (then DEADLINE_EXCEEDED). Room is offered to the head only: a large call is not
 * overtaken for ever by small ones.
 *
 * <p>Adaptive batching ({@link Gathering}): when a replica has room, the head takes the calls
 * waiting behind it along, up to a count and a byte budget, and the {@link Sender} sends them
 * as one batch. A runtime busy with a batch lets the next calls gather, so batches grow with
 * the load. A batch may also wait, at most {@code maxDelay}, until its share of the load has
 * arrived (the deployment's estimate: the calls lately in flight at once, divided among the
 * batches its runtimes run at once). Answers come back to clients in bursts, and without the
 * wait the first call of a burst takes a free runtime alone. With no concurrent load the share
 * is one call, and nothing waits.
 *
 * @param <T> what the deployment keeps of a call (its payload, the future its answer goes to)
 */
final class AdmissionQueue<T> {
  /** Sends calls placed at a replica, whose room is reserved: one call, or one batch. */
  interface Sender<T> {
    void send(Replica replica, List<Admitted<T>> calls);
  }

  /** A call with its payload size and when it arrived (queue delay is measured from it). */
  record Admitted<T>(T call, long bytes, long arrivedNanos) {}

  /**
   * How many waiting calls one placement takes along and how long a not-full batch may wait.
   *
   * @param maxCalls calls in one placement; 1: no batching
   * @param maxBytes payload bytes of one batch at most (a call alone may be larger)
   */
  record Gathering(int maxCalls, long maxBytes, Duration maxDelay) {
    static final Gathering ONE_AT_A_TIME = new Gathering(1, Long.MAX_VALUE, Duration.ZERO);
  }

  /** A call waiting for room: it and the future that completes when it is handed over. */
  private record Waiting<T>(Admitted<T> admitted, CompletableFuture<Void> placed) {}

  private final String model;
  private final int maxCalls;
  private final long maxBytes;
  /** Reserves room for a call of so many bytes at some replica; null when none has room. */
  private final LongFunction<Replica> placer;
  /** How many calls a batch may wait for (at most the gathering's count and maxDelay). */
  private final IntSupplier share;
  private final Sender<T> sender;
  // Guarded by this.
  private final Deque<Waiting<T>> waiting = new ArrayDeque<>();
  private Gathering gathering = Gathering.ONE_AT_A_TIME;
  private long waitingBytes;
  private long rejections;
  private boolean wakeScheduled;

  AdmissionQueue(String model, int maxCalls, long maxBytes, LongFunction<Replica> placer,
      IntSupplier share, Sender<T> sender) {
    this.model = model;
    this.maxCalls = maxCalls;
    this.maxBytes = maxBytes;
    this.placer = placer;
    this.share = share;
    this.sender = sender;
  }

  synchronized void gather(Gathering rule) {
    this.gathering = rule;
  }

  /**
   * Hands the call to the sender once a replica has room for it (at once when nothing waits,
   * before this returns). The result fails when the queue is full or the call's time ran out
   * while it waited; it completes when the call was handed over.
   */
  CompletableFuture<Void> admit(T call, long bytes, Duration timeout) {
    Admitted<T> admitted = new Admitted<>(call, bytes, System.nanoTime());
    Waiting<T> waiter;
    List<Runnable> handOver;
    synchronized (this) {
      if (waiting.isEmpty() && (gathering.maxDelay().isZero() || share.getAsInt() <= 1)) {
        Replica replica = placer.apply(bytes);
        if (replica != null) {
          handOver = List.of(() -> sender.send(replica, List.of(admitted)));
          waiter = null;
        } else {
          handOver = null;
          waiter = enqueue(admitted);
        }
      } else {
        waiter = enqueue(admitted);
        handOver = waiter == null ? null : gatherLocked();
      }
    }
    if (waiter == null && handOver == null) {
      return CompletableFuture.failedFuture(full(bytes));
    }
    if (waiter != null) {
      Timeouts.onTimeout(waiter.placed(), timeout, () -> expire(waiter, timeout));
    }
    if (handOver != null) {
      handOver.forEach(Runnable::run); // outside the lock: this sends calls
    }
    return waiter == null ? CompletableFuture.completedFuture(null) : waiter.placed();
  }

  /** A runtime finished a call or became ready: the waiting heads that now fit are placed. */
  void roomFreed() {
    List<Runnable> handOver;
    synchronized (this) {
      if (waiting.isEmpty()) {
        return; // the common case: nobody waits
      }
      handOver = gatherLocked();
    }
    handOver.forEach(Runnable::run); // outside the lock: this sends calls
  }

  /** Fails every waiting call (the deployment is going away). */
  void failAll(GatewayException why) {
    List<Waiting<T>> dropped;
    synchronized (this) {
      dropped = List.copyOf(waiting);
      waiting.clear();
      waitingBytes = 0;
    }
    dropped.forEach(call -> call.placed().completeExceptionally(why));
  }

  synchronized int length() {
    return waiting.size();
  }

  synchronized long waitingBytes() {
    return waitingBytes;
  }

  /** Calls refused because the queue was full, since the deployment started. */
  synchronized long rejections() {
    return rejections;
  }

  /** Under the lock: the call queued, or null (and counted) when the queue is full. */
  private Waiting<T> enqueue(Admitted<T> admitted) {
    if (waiting.size() >= maxCalls || waitingBytes + admitted.bytes() > maxBytes) {
      rejections++;
      return null;
    }
    Waiting<T> waiter = new Waiting<>(admitted, new CompletableFuture<>());
    waiting.addLast(waiter);
    waitingBytes += admitted.bytes();
    return waiter;
  }

  /** Under the lock: the placements that fit now, each the head and the calls it takes along. */
  private List<Runnable> gatherLocked() {
    List<Runnable> handOver = new ArrayList<>();
    while (!waiting.isEmpty()) {
      Waiting<T> head = waiting.peekFirst();
      if (holds(head)) {
        wakeAfterDelay(head);
        break;
      }
      Replica replica = placer.apply(head.admitted().bytes());
      if (replica == null) {
        break;
      }
      List<Waiting<T>> batch = takeAlong(head, replica);
      handOver.add(() -> handOver(replica, batch));
    }
    return handOver;
  }

  /**
   * Under the lock: a batch short of its share may wait for more calls until its head's delay
   * is up. A full queue is a full batch too: held longer, it would refuse calls while a runtime
   * idles.
   */
  private boolean holds(Waiting<T> head) {
    long waited = System.nanoTime() - head.admitted().arrivedNanos();
    return waited < gathering.maxDelay().toNanos()
        && waitingBytes < Math.min(gathering.maxBytes(), maxBytes)
        && waiting.size() < Math.min(share.getAsInt(), Math.min(gathering.maxCalls(), maxCalls));
  }

  private void wakeAfterDelay(Waiting<T> head) {
    if (wakeScheduled) {
      return;
    }
    wakeScheduled = true;
    long waited = System.nanoTime() - head.admitted().arrivedNanos();
    Timeouts.schedule(() -> {
      synchronized (this) {
        wakeScheduled = false;
      }
      roomFreed();
    }, gathering.maxDelay().minusNanos(waited));
  }

  /** Under the lock: the head, and the calls behind it that fit the batch and the replica. */
  private List<Waiting<T>> takeAlong(Waiting<T> head, Replica replica) {
    List<Waiting<T>> batch = new ArrayList<>();
    remove(head);
    batch.add(head);
    long bytes = head.admitted().bytes();
    while (batch.size() < gathering.maxCalls() && !waiting.isEmpty()) {
      Waiting<T> next = waiting.peekFirst();
      long size = next.admitted().bytes();
      if (bytes + size > gathering.maxBytes() || !replica.tryGrow(size)) {
        break;
      }
      remove(next);
      batch.add(next);
      bytes += size;
    }
    return batch;
  }

  /** Outside the lock. A call removed from the queue can no longer expire there. */
  private void handOver(Replica replica, List<Waiting<T>> batch) {
    try {
      sender.send(replica, batch.stream().map(Waiting::admitted).toList());
    } finally {
      batch.forEach(call -> call.placed().complete(null)); // sent: its queue timer is done
    }
  }

  private void expire(Waiting<T> call, Duration timeout) {
    boolean removed;
    synchronized (this) {
      removed = remove(call);
    }
    if (removed) {
      call.placed().completeExceptionally(new GatewayException(ErrorKind.DEADLINE_EXCEEDED,
          "model '" + model + "' did not answer within " + timeout.toMillis()
          + " ms: every runtime was busy (the call waited in the admission queue)"));
    }
  }

  /** Under the lock; false when the call no longer waits. */
  private boolean remove(Waiting<T> call) {
    if (!waiting.remove(call)) {
      return false;
    }
    waitingBytes -= call.admitted().bytes();
    return true;
  }

  private GatewayException full(long bytes) {
    synchronized (this) {
      return new GatewayException(ErrorKind.RESOURCE_EXHAUSTED, "model '" + model
          + "' is at capacity: its runtimes are busy and " + waiting.size() + " calls ("
          + waitingBytes + " bytes) already wait; the queue holds at most " + maxCalls
          + " calls and " + maxBytes + " bytes (this call: " + bytes + " bytes); retry later");
    }
  }
}
