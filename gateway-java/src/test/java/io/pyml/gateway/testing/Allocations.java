package io.pyml.gateway.testing;

import io.grpc.KnownLength;
import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;

/** For tests that bound what parsing or writing a message allocates (copies of its bytes). */
public final class Allocations {
  private Allocations() {}

  /** What gRPC hands a marshaller: a stream that knows its length (here, over a heap array). */
  public static final class KnownLengthStream extends ByteArrayInputStream
      implements KnownLength {
    public KnownLengthStream(byte[] bytes) {
      super(bytes);
    }
  }

  /** Bytes of heap that {@code work} allocated in this thread. */
  public static long allocatedBy(Runnable work) {
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().getId();
    long before = threads.getThreadAllocatedBytes(id);
    work.run();
    return threads.getThreadAllocatedBytes(id) - before;
  }
}
