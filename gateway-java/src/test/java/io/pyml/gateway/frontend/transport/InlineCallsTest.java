package io.pyml.gateway.frontend.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Attributes;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.pyml.gateway.config.TransportLimits;
import io.pyml.gateway.identity.Access;
import io.pyml.gateway.identity.Credentials;
import io.pyml.gateway.identity.JdbcIdentityStore;
import io.pyml.gateway.testing.MovingClock;
import io.pyml.proto.v1.AdminServiceGrpc;
import io.pyml.proto.v1.ListDeploymentsRequest;
import io.pyml.proto.v1.ListDeploymentsResponse;
import io.pyml.proto.v1.PredictRequest;
import io.pyml.proto.v1.PredictResponse;
import io.pyml.proto.v1.PredictionServiceGrpc;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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

      assertEquals("pool", ranOn(inline.getExecutor(admin, headers(null))), "an admin call");
      assertEquals(here, ranOn(inline.getExecutor(predict, headers(null))), "no identities");

      String token = access.createToken(Credentials.NONE, "root", true).token();
      assertEquals("pool", ranOn(inline.getExecutor(predict, headers(token))), "never checked");
      assertEquals("pool", ranOn(inline.getExecutor(predict, headers(token + "x"))), "unknown");
      assertEquals("pool", ranOn(inline.getExecutor(predict, headers("a.b.c"))), "a JWT");
      assertEquals(here, ranOn(inline.getExecutor(predict, headers(null))), "refused at once");

      Executor whileArriving = inline.getExecutor(predict, headers(token));
      access.whoAmI(new Credentials(Optional.of(token)));
      assertEquals(here, ranOn(whileArriving), "checked since its headers came: memory");
      assertEquals("pool", ranOn(inline.getExecutor(admin, headers(token))));
      clock.advance(Duration.ofMinutes(2));
      assertEquals("pool", ranOn(whileArriving), "its check expired while the request came");
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * On a real server: a prediction starts on the transport's thread, with no hand-over to a
   * pool thread and back before it (gRPC looked its method up on the server's executor, which
   * was the pool: 1.5-1.9 thread switches a 1-row call, 7 December); an admin call starts on
   * the pool.
   */
  @Test
  void onARealServerAPredictionStartsOnTheTransportThreadAndAnAdminCallOnThePool()
      throws Exception {
    Map<String, String> startedOn = new ConcurrentHashMap<>();
    ServerInterceptor recorder = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        startedOn.put(call.getMethodDescriptor().getBareMethodName(),
            Thread.currentThread().getName());
        return next.startCall(call, headers);
      }
    };
    try (GrpcTransport transport = new GrpcTransport(TransportLimits.DEFAULTS,
        Set.of(PredictionServiceGrpc.getPredictMethod().getFullMethodName()), c -> true)) {
      Server server = transport.builder(new InetSocketAddress("127.0.0.1", 0))
          .addService(new PredictionServiceGrpc.PredictionServiceImplBase() {
            @Override
            public void predict(PredictRequest request, StreamObserver<PredictResponse> out) {
              out.onNext(PredictResponse.getDefaultInstance());
              out.onCompleted();
            }
          })
          .addService(new AdminServiceGrpc.AdminServiceImplBase() {
            @Override
            public void listDeployments(ListDeploymentsRequest request,
                StreamObserver<ListDeploymentsResponse> out) {
              out.onNext(ListDeploymentsResponse.getDefaultInstance());
              out.onCompleted();
            }
          })
          .intercept(recorder)
          .build().start();
      ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.getPort())
          .usePlaintext().build();
      try {
        PredictionServiceGrpc.newBlockingStub(channel)
            .predict(PredictRequest.getDefaultInstance());
        AdminServiceGrpc.newBlockingStub(channel)
            .listDeployments(ListDeploymentsRequest.getDefaultInstance());
      } finally {
        channel.shutdownNow();
        server.shutdownNow();
      }
    }
    assertTrue(startedOn.get("Predict").startsWith("pyml-grpc-io"), startedOn.toString());
    assertTrue(startedOn.get("ListDeployments").startsWith("pyml-grpc-call"),
        startedOn.toString());
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
