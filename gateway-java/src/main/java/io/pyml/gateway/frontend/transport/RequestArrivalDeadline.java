package io.pyml.gateway.frontend.transport;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.netty.util.Timeout;
import io.pyml.gateway.core.Timeouts;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Ends a unary call whose request message has not arrived whole within a fixed time of the
 * call's start. gRPC buffers a message until its last byte arrives and has no such timeout of
 * its own, so a client that sends most of a large message and stops would hold that memory for
 * as long as its connection lives. Closing the call frees the partial message.
 *
 * <p>Also caps the requests of a port still arriving at once: beyond it a call is refused with
 * RESOURCE_EXHAUSTED before any of its bytes are read, so the partial messages a port holds
 * are at most {@code maxArriving} x the largest message.
 */
final class RequestArrivalDeadline implements ServerInterceptor {
  private static final int WAITING = 0;
  private static final int ARRIVED = 1;
  private static final int EXPIRED = 2;
  private static final int ENDED = 3;

  private final Duration timeout;
  private final int maxArriving;
  private final AtomicInteger arriving = new AtomicInteger();

  RequestArrivalDeadline(Duration timeout, int maxArriving) {
    this.timeout = timeout;
    this.maxArriving = maxArriving;
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
      ServerCallHandler<Q, A> next) {
    if (!call.getMethodDescriptor().getType().clientSendsOneMessage()) {
      return next.startCall(call, headers);
    }
    if (arriving.incrementAndGet() > maxArriving) {
      arriving.decrementAndGet();
      call.close(Status.RESOURCE_EXHAUSTED.withDescription(maxArriving + " requests are "
          + "already arriving on this port (max-arriving-requests); try again"), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    ServerCall.Listener<Q> listener = next.startCall(call, headers);
    // Whichever comes first wins: the request (the call goes on) or the timer (it ends).
    AtomicInteger state = new AtomicInteger(WAITING);
    Timeout timer = Timeouts.deadline(() -> {
      if (state.compareAndSet(WAITING, EXPIRED)) {
        arriving.decrementAndGet();
        call.close(Status.DEADLINE_EXCEEDED.withDescription("the request of "
            + call.getMethodDescriptor().getFullMethodName() + " did not arrive whole within "
            + timeout.toMillis() + " ms (request-read-timeout-ms)"), new Metadata());
      }
    }, timeout);
    return new SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onMessage(Q message) {
        if (settle()) {
          super.onMessage(message);
        }
      }

      @Override
      public void onHalfClose() {
        if (settle()) {
          super.onHalfClose();
        }
      }

      @Override
      public void onCancel() {
        end();
        super.onCancel();
      }

      @Override
      public void onComplete() {
        end();
        super.onComplete();
      }

      /** True unless the timer already ended the call. */
      private boolean settle() {
        if (state.compareAndSet(WAITING, ARRIVED)) {
          timer.cancel();
          arriving.decrementAndGet();
        }
        return state.get() == ARRIVED;
      }

      private void end() {
        timer.cancel();
        if (state.compareAndSet(WAITING, ENDED)) {
          arriving.decrementAndGet();
        }
      }
    };
  }
}
