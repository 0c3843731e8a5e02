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
import java.util.function.LongFunction;

/**
 * One deployment's calls waiting for room at a runtime, first in first out. A call is placed
 * at once when nothing waits and a replica has room; otherwise it waits, bounded by the
 * queue's length and bytes (beyond them it is refused RESOURCE_EXHAUSTED at once) and by its
 * own deadline (then DEADLINE_EXCEEDED). Room is offered to the head only: a large call is not
 * overtaken for ever by small ones.
 *
 * <p>The interface is what batching would build on: {@link #admit} takes a call's size and
 * time, {@link #roomFreed} is told whenever a runtime may take more.
 */
final class AdmissionQueue {
  /** A call waiting for room: its payload size and the future that hands it a replica. */
  private record Waiting(long bytes, CompletableFuture<Replica> placed) {}

  private final String model;
  private final int maxCalls;
  private final long maxBytes;
  /** Reserves room for a call of so many bytes at some replica; null when none has room. */
  private final LongFunction<Replica> placer;
  // Guarded by this.
  private final Deque<Waiting> waiting = new ArrayDeque<>();
  private long waitingBytes;
  private long rejections;

  AdmissionQueue(String model, int maxCalls, long maxBytes, LongFunction<Replica> placer) {
    this.model = model;
    this.maxCalls = maxCalls;
    this.maxBytes = maxBytes;
    this.placer = placer;
  }

  /**
   * Completes with a replica that has room reserved for the call (the caller unreserves it
   * when the runtime's call ends, then calls {@link #roomFreed}); or exceptionally when the
   * queue is full or the call's time ran out while it waited.
   */
  CompletableFuture<Replica> admit(long bytes, Duration timeout) {
    Waiting call;
    synchronized (this) {
      if (waiting.isEmpty()) {
        Replica replica = placer.apply(bytes);
        if (replica != null) {
          return CompletableFuture.completedFuture(replica);
        }
      }
      if (waiting.size() >= maxCalls || waitingBytes + bytes > maxBytes) {
        rejections++;
        return CompletableFuture.failedFuture(full(bytes));
      }
      call = new Waiting(bytes, new CompletableFuture<>()); // only a call that waits
      waiting.addLast(call);
      waitingBytes += bytes;
    }
    Timeouts.onTimeout(call.placed(), timeout, () -> expire(call, timeout));
    return call.placed();
  }

  /** A runtime finished a call or became ready: the waiting heads that now fit are placed. */
  void roomFreed() {
    List<Runnable> handOver;
    synchronized (this) {
      if (waiting.isEmpty()) {
        return; // the common case: nobody waits
      }
      handOver = new ArrayList<>();
      while (!waiting.isEmpty()) {
        Waiting head = waiting.peekFirst();
        Replica replica = placer.apply(head.bytes());
        if (replica == null) {
          break;
        }
        remove(head);
        handOver.add(() -> {
          if (!head.placed().complete(replica)) {
            replica.unreserve(head.bytes()); // it expired meanwhile: give the room back
            roomFreed();
          }
        });
      }
    }
    handOver.forEach(Runnable::run); // outside the lock: completing sends the call
  }

  /** Fails every waiting call (the deployment is going away). */
  void failAll(GatewayException why) {
    List<Waiting> dropped;
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

  private void expire(Waiting call, Duration timeout) {
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
  private boolean remove(Waiting call) {
    if (!waiting.remove(call)) {
      return false;
    }
    waitingBytes -= call.bytes();
    return true;
  }

  private GatewayException full(long bytes) {
    return new GatewayException(ErrorKind.RESOURCE_EXHAUSTED, "model '" + model
        + "' is at capacity: its runtimes are busy and " + waiting.size() + " calls ("
        + waitingBytes + " bytes) already wait; the queue holds at most " + maxCalls
        + " calls and " + maxBytes + " bytes (this call: " + bytes + " bytes); retry later");
  }
}
