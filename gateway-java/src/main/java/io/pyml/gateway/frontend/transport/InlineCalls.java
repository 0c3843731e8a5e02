package io.pyml.gateway.frontend.transport;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import io.pyml.gateway.identity.Credentials;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Predicate;

/**
 * Which calls a gRPC port runs on its transport thread instead of handing them to a pool
 * thread: the methods named (native Predict, which forwards its payload without converting
 * it), while checking their caller asks nothing of the identity store. Such a call reads
 * memory and starts the runtime's call; the hand-over it saves was ~0.08 ms of a 1-row call at
 * c=1 (7 December). The check is made again before each of the call's steps runs, not only
 * when its headers arrive: a token's check may expire, or the cache be cleared, while its
 * request arrives, and a store query on a transport thread would hold up every connection
 * that thread serves; such a step goes to the server's pool, where other calls (admin, health,
 * OIP's conversions, a JWT, a token not checked lately) run.
 *
 * <p>The server's own executor is direct: gRPC looks a call's method up on that executor
 * before it asks this class where the call runs, and a pool there cost every inline call a
 * hand-over to a pool thread and back (1.5-1.9 thread switches a 1-row call, 7 December).
 */
public final class InlineCalls implements ServerCallExecutorSupplier {
  private final Set<String> methods;
  private final Predicate<Credentials> checksInMemory;
  private final Executor pool;

  /**
   * @param methods full gRPC method names ("package.Service/Method")
   * @param checksInMemory whether checking these credentials asks nothing of the store
   * @param pool where a step goes when its caller no longer checks in memory
   */
  public InlineCalls(Set<String> methods, Predicate<Credentials> checksInMemory,
      Executor pool) {
    this.methods = Set.copyOf(methods);
    this.checksInMemory = checksInMemory;
    this.pool = pool;
  }

  /**
   * For a named method, an executor that runs each step inline when it may; for any other,
   * the pool. Never null: the server's own executor is the transport thread (it looks up the
   * method and asks this), so every call that is not inline must be sent to the pool here.
   */
  @Override
  public <Q, R> Executor getExecutor(ServerCall<Q, R> call, Metadata headers) {
    if (!methods.contains(call.getMethodDescriptor().getFullMethodName())) {
      return pool;
    }
    Credentials credentials = CallerCredentials.read(headers);
    return step -> {
      if (checksInMemory.test(credentials)) {
        step.run();
      } else {
        pool.execute(step);
      }
    };
  }
}
