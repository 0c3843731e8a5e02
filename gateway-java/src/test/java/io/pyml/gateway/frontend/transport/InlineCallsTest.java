package io.pyml.gateway.frontend.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.grpc.Attributes;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import io.pyml.gateway.identity.Access;
import io.pyml.gateway.identity.Credentials;
import io.pyml.gateway.identity.JdbcIdentityStore;
import io.pyml.gateway.testing.MovingClock;
import io.pyml.proto.v1.AdminServiceGrpc;
import io.pyml.proto.v1.PredictionServiceGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A prediction runs on the transport's thread only when nothing in it can wait on the identity
 * store; everything else keeps the server's pool (a store query on a transport thread would
 * hold up every connection that thread serves).
 */
class InlineCallsTest {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  @TempDir
  Path folder;

  @Test
  void onlyAPredictionWhoseCallerChecksInMemoryRunsInlineCheckedAtEachStep() throws Exception {
    String here = Thread.currentThread().getName();
    MovingClock clock = new MovingClock();
    ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "pool"));
    try (JdbcIdentityStore store =
            JdbcIdentityStore.open("jdbc:sqlite:" + folder.resolve("identities.db"));
        Access access = new Access(store, Optional.empty(), clock)) {
      InlineCalls inline = new InlineCalls(
          Set.of(PredictionServiceGrpc.getPredictMethod().getFullMethodName()),
          access::checksInMemory, pool);
      ServerCall<?, ?> predict = call(PredictionServiceGrpc.getPredictMethod());
      ServerCall<?, ?> admin = call(AdminServiceGrpc.getListDeploymentsMethod());

      assertNull(inline.getExecutor(admin, headers(null)), "an admin call: the server's pool");
      assertEquals(here, ranOn(inline.getExecutor(predict, headers(null))), "no identities");

      String token = access.createToken(Credentials.NONE, "root", true).token();
      assertEquals("pool", ranOn(inline.getExecutor(predict, headers(token))), "never checked");
      assertEquals("pool", ranOn(inline.getExecutor(predict, headers(token + "x"))), "unknown");
      assertEquals("pool", ranOn(inline.getExecutor(predict, headers("a.b.c"))), "a JWT");
      assertEquals(here, ranOn(inline.getExecutor(predict, headers(null))), "refused at once");

      Executor whileArriving = inline.getExecutor(predict, headers(token));
      access.whoAmI(new Credentials(Optional.of(token)));
      assertEquals(here, ranOn(whileArriving), "checked since its headers came: memory");
      assertNull(inline.getExecutor(admin, headers(token)));
      clock.advance(Duration.ofMinutes(2));
      assertEquals("pool", ranOn(whileArriving), "its check expired while the request came");
    } finally {
      pool.shutdownNow();
    }
  }

  /** The thread that ran a step given to {@code executor}. */
  private static String ranOn(Executor executor) throws Exception {
    CompletableFuture<String> thread = new CompletableFuture<>();
    executor.execute(() -> thread.complete(Thread.currentThread().getName()));
    return thread.get(10, TimeUnit.SECONDS);
  }

  private static Metadata headers(String bearer) {
    Metadata headers = new Metadata();
    if (bearer != null) {
      headers.put(AUTHORIZATION, "Bearer " + bearer);
    }
    return headers;
  }

  private static <Q, R> ServerCall<Q, R> call(MethodDescriptor<Q, R> method) {
    return new ServerCall<>() {
      @Override
      public void request(int count) {}

      @Override
      public void sendHeaders(Metadata headers) {}

      @Override
      public void sendMessage(R message) {}

      @Override
      public void close(Status status, Metadata trailers) {}

      @Override
      public boolean isCancelled() {
        return false;
      }

      @Override
      public Attributes getAttributes() {
        return Attributes.EMPTY;
      }

      @Override
      public MethodDescriptor<Q, R> getMethodDescriptor() {
        return method;
      }
    };
  }
}
