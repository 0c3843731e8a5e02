package io.pyml.gateway.frontend.transport;

import static org.junit.jupiter.api.Assertions.assertNotNull;
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
  void onlyAPredictionWhoseCallerChecksInMemoryRunsInline() throws Exception {
    MovingClock clock = new MovingClock();
    try (JdbcIdentityStore store =
            JdbcIdentityStore.open("jdbc:sqlite:" + folder.resolve("identities.db"));
        Access access = new Access(store, Optional.empty(), clock)) {
      InlineCalls inline = new InlineCalls(
          Set.of(PredictionServiceGrpc.getPredictMethod().getFullMethodName()),
          access::checksInMemory);
      ServerCall<?, ?> predict = call(PredictionServiceGrpc.getPredictMethod());
      ServerCall<?, ?> admin = call(AdminServiceGrpc.getListDeploymentsMethod());

      assertNotNull(inline.getExecutor(predict, headers(null)), "no identities: no store");
      assertNull(inline.getExecutor(admin, headers(null)), "an admin call may use the store");

      String token = access.createToken(Credentials.NONE, "root", true).token();
      assertNull(inline.getExecutor(predict, headers(token)), "never checked: a store lookup");
      assertNull(inline.getExecutor(predict, headers(token + "x")), "unknown: a lookup");
      assertNull(inline.getExecutor(predict, headers("a.b.c")), "a JWT is verified each call");
      assertNotNull(inline.getExecutor(predict, headers(null)), "none given: refused at once");

      access.whoAmI(new Credentials(Optional.of(token)));
      assertNotNull(inline.getExecutor(predict, headers(token)), "checked lately: memory");
      assertNull(inline.getExecutor(admin, headers(token)));
      clock.advance(Duration.ofMinutes(2));
      assertNull(inline.getExecutor(predict, headers(token)), "its check expired");
    }
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
