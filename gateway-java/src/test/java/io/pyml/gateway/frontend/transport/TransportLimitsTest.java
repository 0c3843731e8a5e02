package io.pyml.gateway.frontend.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import io.pyml.gateway.Gateway;
import io.pyml.gateway.config.TransportLimits;
import io.pyml.gateway.sidecar.SocketDirs;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestConfigs;
import io.pyml.thrift.v1.Payload;
import io.pyml.thrift.v1.PayloadKind;
import io.pyml.thrift.v1.PredictRequest;
import io.pyml.thrift.v1.PredictionService;
import io.pyml.proto.v1.PredictionServiceGrpc;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.layered.TFramedTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The transport limits on a real gateway with fake runtimes, with limits of about a second. */
class TransportLimitsTest {
  static final int MAX_CONNECTIONS = 8;
  static final int MAX_ARRIVING = 1; // below the 2 streams a connection may have
  static final Duration IDLE = Duration.ofMillis(1000);
  static final Duration READ = Duration.ofMillis(1000);
  static final FakeLauncher LAUNCHER = new FakeLauncher().model("steady", FakeModel.dataframe())
      .model("hanging", FakeModel.dataframe().hanging());

  static Path work;
  static Gateway gateway;

  @BeforeAll
  static void start() throws Exception {
    work = Files.createTempDirectory(Path.of("/tmp"), "pyml-tl-");
    Path home = Files.createDirectories(work.resolve("home"));
    gateway = Gateway.start(TestConfigs.ephemeral(work.resolve("w"))
        .withMaxPayloadBytes(1 << 20)
        .withTransport(new TransportLimits(MAX_CONNECTIONS, 2, IDLE, Duration.ofHours(1), READ,
            100, MAX_ARRIVING)), LAUNCHER);
    try (TestClient grpc = new TestClient(gateway.grpcPort())) {
      grpc.deploy("steady", 1, home);
      grpc.deploy("hanging", 1, home);
    }
  }

  @AfterAll
  static void stop() {
    gateway.close();
    SocketDirs.deleteRecursively(work);
  }

  @Test
  void silentThriftFramesHoldNothingAndEndAfterTheReadTimeout() throws Exception {
    List<Socket> silent = new ArrayList<>();
    try {
      for (int i = 0; i < 4; i++) {
        Socket socket = new Socket("127.0.0.1", gateway.thriftPort());
        new DataOutputStream(socket.getOutputStream()).writeInt(1 << 20);
        silent.add(socket);
      }
      assertEquals("ydaets", thriftPredict("steady"));
      for (Socket socket : silent) {
        assertTrue(closedWithin(socket, READ.plusSeconds(3)), "a silent frame's connection");
      }
    } finally {
      for (Socket socket : silent) {
        socket.close();
      }
    }
  }

  @Test
  void aGrpcRequestThatNeverArrivesEndsItsCall() throws Exception {
    try (TestClient client = new TestClient(gateway.grpcPort())) {
      ClientCall<io.pyml.proto.v1.PredictRequest, io.pyml.proto.v1.PredictResponse> call = client.channel
          .newCall(PredictionServiceGrpc.getPredictMethod(), CallOptions.DEFAULT);
      CompletableFuture<Status> closed = new CompletableFuture<>();
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onClose(Status status, Metadata trailers) {
          closed.complete(status);
        }
      }, new Metadata());
      call.request(1); // headers sent, the message never is
      Status status = closed.get(READ.toMillis() + 3000, TimeUnit.MILLISECONDS);
      assertEquals(Status.Code.DEADLINE_EXCEEDED, status.getCode());
      assertTrue(status.getDescription().contains("request-read-timeout-ms"),
          status.getDescription());
      // The connection and the model serve on.
      assertEquals("ko", client.predict(TestClient.request("steady", "ok")).getPayload()
          .getArrowIpc().toStringUtf8());
    }
  }

  @Test
  void requestsBeyondTheArrivingCapAreRefusedAtOnce() throws Exception {
    try (TestClient client = new TestClient(gateway.grpcPort())) {
      List<CompletableFuture<Status>> stalled = new ArrayList<>();
      for (int i = 0; i < MAX_ARRIVING + 1; i++) {
        stalled.add(startWithoutMessage(client));
      }
      // One over the cap is refused before any of its bytes are read (which one depends on
      // the order the server's threads see them); the others wait for their requests.
      List<Status> statuses = new ArrayList<>();
      for (CompletableFuture<Status> call : stalled) {
        statuses.add(call.get(READ.toMillis() + 3000, TimeUnit.MILLISECONDS));
      }
      List<Status> refused = statuses.stream()
          .filter(s -> s.getCode() == Status.Code.RESOURCE_EXHAUSTED).toList();
      assertEquals(1, refused.size(), statuses.toString());
      assertTrue(refused.get(0).getDescription().contains("max-arriving-requests"),
          refused.get(0).getDescription());
      assertEquals(MAX_ARRIVING, statuses.stream()
          .filter(s -> s.getCode() == Status.Code.DEADLINE_EXCEEDED).count(), statuses.toString());
      // Their places are free again.
      assertEquals("ko", client.predict(TestClient.request("steady", "ok")).getPayload()
          .getArrowIpc().toStringUtf8());
    }
  }

  @Test
  void anHttpCallWaitingForItsModelIsNotCutByTheIdleTimeout() throws Exception {
    // The connection is silent while the model works: the call's deadline ends it, not idle.
    long deadline = IDLE.toMillis() * 3;
    HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + gateway.httpPort() + "/v2/models/hanging/infer"))
        .header("pyml-timeout-ms", Long.toString(deadline))
        .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": [{\"name\": \"x\","
            + " \"datatype\": \"FP64\", \"shape\": [1], \"data\": [1]}]}"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(504, answer.statusCode(), answer.body());
    assertEquals("DEADLINE_EXCEEDED", answer.headers().firstValue("pyml-error").orElse(""));
  }

  static CompletableFuture<Status> startWithoutMessage(TestClient client) {
    ClientCall<io.pyml.proto.v1.PredictRequest, io.pyml.proto.v1.PredictResponse> call =
        client.channel.newCall(PredictionServiceGrpc.getPredictMethod(), CallOptions.DEFAULT);
    CompletableFuture<Status> closed = new CompletableFuture<>();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    call.request(1);
    return closed;
  }

  @Test
  void connectionsOverTheCapAreClosedAndIdleOnesEnd() throws Exception {
    for (int port : new int[] {gateway.grpcPort(), gateway.oipPort(), gateway.thriftPort()}) {
      List<Socket> held = new ArrayList<>();
      try {
        for (int i = 0; i < MAX_CONNECTIONS + 4; i++) {
          held.add(new Socket("127.0.0.1", port));
        }
        int refused = 0;
        for (Socket socket : held) {
          refused += closedWithin(socket, Duration.ofMillis(100)) ? 1 : 0;
        }
        assertTrue(refused >= 4, "port " + port + ": " + refused + " refused");
        for (Socket socket : held) {
          assertTrue(closedWithin(socket, IDLE.plusSeconds(3)), "port " + port + ": idle");
        }
      } finally {
        for (Socket socket : held) {
          socket.close();
        }
      }
    }
  }

  static String thriftPredict(String model) throws Exception {
    try (TTransport transport = new TFramedTransport(new TSocket("127.0.0.1",
        gateway.thriftPort(), 5_000))) {
      transport.open();
      PredictRequest request = new PredictRequest().setModelName(model).setPayload(new Payload(
          PayloadKind.DATAFRAME, ByteBuffer.wrap(model.getBytes(StandardCharsets.UTF_8))));
      return new String(new PredictionService.Client(new TBinaryProtocol(transport))
          .predict(request).getPayload().getArrowIpc(), StandardCharsets.UTF_8);
    }
  }

  /** True if the peer closes (EOF or reset) within {@code within}. */
  static boolean closedWithin(Socket socket, Duration within) throws IOException {
    socket.setSoTimeout((int) within.toMillis());
    InputStream in = socket.getInputStream();
    try {
      while (in.read() >= 0) {
        // drain whatever the server sent (an HTTP/2 preface, a GOAWAY)
      }
      return true;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true; // reset
    }
  }
}
