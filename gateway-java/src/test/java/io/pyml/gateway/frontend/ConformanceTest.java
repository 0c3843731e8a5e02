package io.pyml.gateway.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.pyml.gateway.Gateway;
import io.pyml.gateway.config.AccessLogSettings;
import io.pyml.gateway.config.GatewayConfig;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.frontend.grpc.GrpcErrors;
import io.pyml.gateway.sidecar.SocketDirs;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestConfigs;
import io.pyml.oip.v2.GRPCInferenceServiceGrpc;
import io.pyml.oip.v2.ModelInferRequest;
import io.pyml.proto.v1.DeployRequest;
import io.pyml.proto.v1.Payload;
import io.pyml.proto.v1.PayloadKind;
import io.pyml.proto.v1.PredictRequest;
import io.pyml.thrift.v1.PredictionService;
import io.pyml.thrift.v1.PymlError;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.layered.TFramedTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One table of cases, run against every protocol that predicts (grpc-java's way: one suite
 * over every transport): each case must mean the same on gRPC, Thrift, OIP and HTTP (KServe V2
 * REST), that is the
 * same status and the same words, except where the words are about the protocol's own payload
 * format (then they must still name the model). The real gateway and data plane, with fake
 * runtimes on Unix sockets, and identities that survived a restart of the gateway: "ann" asks
 * (every row but the last ones), and "bob", who may predict with "hanging" only, is refused
 * the same way whether a model exists.
 */
class ConformanceTest {
  static final int LIMIT = 4096;
  static final FakeLauncher LAUNCHER = new FakeLauncher()
      .model("loading", FakeModel.dataframe().loadingFor(Duration.ofMinutes(10)))
      .model("hanging", FakeModel.dataframe().hanging());

  static Path work;
  static Gateway gateway;
  static String admin;
  static String ann;
  static String bob;

  /**
   * Identities first, on a gateway that is then restarted: the table runs on grants that
   * survived it. "ann" may predict with the table's models (and "nope", which never exists);
   * "bob" only with "hanging". The admin only deploys.
   */
  @BeforeAll
  static void start() throws Exception {
    work = Files.createTempDirectory(Path.of("/tmp"), "pyml-conf-");
    Path home = Files.createDirectories(work.resolve("home"));
    GatewayConfig config = TestConfigs.ephemeral(work.resolve("w"))
        .withMaxPayloadBytes(LIMIT)
        .withDeployTimeout(Duration.ofMinutes(15))
        .withAccessLog(new AccessLogSettings(work.resolve("access.log").toString(), true, 1.0));
    gateway = Gateway.start(config, LAUNCHER);
    try (TestClient local = new TestClient(gateway.grpcPort())) {
      admin = local.createToken("root", true); // turns authentication on
    }
    try (TestClient grpc = new TestClient(gateway.grpcPort(), admin)) {
      ann = grpc.createToken("ann", false);
      bob = grpc.createToken("bob", false);
      for (String model : List.of("steady", "loading", "hanging", "nope")) {
        grpc.grant(model, "ann", "predict");
      }
      grpc.grant("hanging", "bob", "predict");
    }
    gateway.close();
    gateway = Gateway.start(config, LAUNCHER);
    try (TestClient grpc = new TestClient(gateway.grpcPort(), admin)) {
      grpc.deploy("steady", 3, home);
      grpc.deploy("hanging", 1, home);
      grpc.admin.deploy(DeployRequest.newBuilder().setModelName("loading").setModelVersion(1)
          .setHomePath(home.toString()).build()); // not waited for: it stays loading
    }
  }

  @AfterAll
  static void stop() {
    gateway.close();
    SocketDirs.deleteRecursively(work);
  }

  /** What a client asks, said once for every protocol. */
  record Ask(String model, OptionalLong version, boolean wrongPayload, int valueBytes,
      Duration deadline, Who who) {
    static Ask of(String model) {
      return new Ask(model, OptionalLong.empty(), false, 8, Duration.ofSeconds(10), Who.ANN);
    }

    Ask withVersion(long number) {
      return new Ask(model, OptionalLong.of(number), wrongPayload, valueBytes, deadline, who);
    }

    Ask withWrongPayload() {
      return new Ask(model, version, true, valueBytes, deadline, who);
    }

    Ask withValueBytes(int bytes) {
      return new Ask(model, version, wrongPayload, bytes, deadline, who);
    }

    Ask withDeadline(Duration time) {
      return new Ask(model, version, wrongPayload, valueBytes, time, who);
    }

    Ask by(Who caller) {
      return new Ask(model, version, wrongPayload, valueBytes, deadline, caller);
    }

    /** The token the call carries; empty: none. */
    String token() {
      return switch (who) {
        case ANN -> ann;
        case BOB -> bob;
        case NOBODY -> "";
        case FORGED -> "pyml_0123456789ab_" + "A".repeat(43);
      };
    }
  }

  /**
   * Who asks: a user with grants on the models asked for, one with a grant on another model,
   * no token, a forged one.
   */
  enum Who { ANN, BOB, NOBODY, FORGED }

  /** The status (gRPC's code names; Thrift's ErrorCode has the same) and the words. */
  record Outcome(String code, String message) {}

  /**
   * A row: what is asked, the status every protocol answers, and the words: {@code same}
   * gives the exact words every protocol must use; else each protocol's words must pass
   * {@code words} (they are about its payload format).
   */
  record Case(String name, Ask ask, String code, String same, Predicate<String> words) {
    @Override
    public String toString() {
      return name;
    }
  }

  static final List<Case> CASES = List.of(
      new Case("unknown model", Ask.of("nope"), "NOT_FOUND",
          "model 'nope' is not deployed", null),
      new Case("wrong version", Ask.of("steady").withVersion(9), "NOT_FOUND",
          "model 'steady' version 9 is not deployed (live version: 3)", null),
      new Case("not ready", Ask.of("loading"), "UNAVAILABLE", null,
          words -> words.startsWith("model 'loading' is not ready: ")),
      new Case("bad payload", Ask.of("steady").withWrongPayload(), "INVALID_ARGUMENT", null,
          words -> words.contains("model 'steady'")),
      new Case("too large", Ask.of("steady").withValueBytes(LIMIT + 8), "RESOURCE_EXHAUSTED", null,
          words -> words.startsWith("payload of ") && words.endsWith(
              " bytes for model 'steady' is over the gateway's limit of 4096 bytes")),
      new Case("deadline", Ask.of("hanging").withDeadline(Duration.ofMillis(300)),
          "DEADLINE_EXCEEDED", null, words -> true),
      new Case("unauthenticated", Ask.of("steady").by(Who.NOBODY), "UNAUTHENTICATED",
          "model 'steady' needs a token with the 'predict' permission: none was given", null),
      new Case("forged token", Ask.of("steady").by(Who.FORGED), "UNAUTHENTICATED",
          "model 'steady' needs a token with the 'predict' permission: the one given is"
              + " unknown, revoked, expired or malformed", null),
      new Case("forbidden", Ask.of("steady").by(Who.BOB), "PERMISSION_DENIED",
          "'bob' lacks the 'predict' permission on model 'steady'", null),
      new Case("forbidden, whether the model exists or not", Ask.of("nope").by(Who.BOB),
          "PERMISSION_DENIED", "'bob' lacks the 'predict' permission on model 'nope'", null),
      new Case("allowed, and then as anyone", Ask.of("hanging").by(Who.BOB)
          .withDeadline(Duration.ofMillis(300)), "DEADLINE_EXCEEDED", null, words -> true));

  /** What each HTTP status means, in gRPC's code names (several statuses may mean one code). */
  static final Map<Integer, String> HTTP_MEANINGS = Map.of(
      400, "INVALID_ARGUMENT", 401, "UNAUTHENTICATED", 403, "PERMISSION_DENIED",
      404, "NOT_FOUND", 409, "FAILED_PRECONDITION", 413, "RESOURCE_EXHAUSTED",
      429, "RESOURCE_EXHAUSTED", 500, "INTERNAL", 503, "UNAVAILABLE", 504, "DEADLINE_EXCEEDED");

  enum Protocol {
    GRPC {
      @Override
      Outcome ask(Ask ask) {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.grpcPort())
            .usePlaintext().build();
        try {
          PredictRequest.Builder request = PredictRequest.newBuilder().setModelName(ask.model())
              .setPayload(Payload.newBuilder().setKind(ask.wrongPayload()
                  ? PayloadKind.PAYLOAD_KIND_TENSORS : PayloadKind.PAYLOAD_KIND_DATAFRAME)
                  .setArrowIpc(ByteString.copyFrom(new byte[ask.valueBytes()])));
          ask.version().ifPresent(request::setModelVersion);
          StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () ->
              io.pyml.proto.v1.PredictionServiceGrpc.newBlockingStub(channel)
                  .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(
                      TestClient.bearer(ask.token())))
                  .withDeadlineAfter(ask.deadline().toMillis(), TimeUnit.MILLISECONDS)
                  .predict(request.build()));
          return new Outcome(error.getStatus().getCode().name(),
              error.getStatus().getDescription());
        } finally {
          channel.shutdownNow();
        }
      }
    },
    THRIFT {
      @Override
      Outcome ask(Ask ask) {
        io.pyml.thrift.v1.PredictRequest request = new io.pyml.thrift.v1.PredictRequest()
            .setModelName(ask.model())
            .setPayload(new io.pyml.thrift.v1.Payload(ask.wrongPayload()
                ? io.pyml.thrift.v1.PayloadKind.TENSORS : io.pyml.thrift.v1.PayloadKind.DATAFRAME,
                ByteBuffer.wrap(new byte[ask.valueBytes()])))
            .setTimeoutMs(ask.deadline().toMillis());
        ask.version().ifPresent(request::setModelVersion);
        if (!ask.token().isEmpty()) {
          request.setAuthorization("Bearer " + ask.token());
        }
        PymlError error = assertThrows(PymlError.class, () -> {
          try (TTransport transport = new TFramedTransport(new TSocket("127.0.0.1",
              gateway.thriftPort(), 10_000))) {
            transport.open();
            new PredictionService.Client(new TBinaryProtocol(transport)).predict(request);
          }
        });
        return new Outcome(error.getCode().name(), error.getMessage());
      }
    },
    OIP {
      @Override
      Outcome ask(Ask ask) {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", gateway.oipPort())
            .usePlaintext().build();
        try {
          int rows = Math.max(1, ask.valueBytes() / 8);
          ModelInferRequest request = ModelInferRequest.newBuilder()
              .setModelName(ask.model())
              .setModelVersion(ask.version().isPresent()
                  ? Long.toString(ask.version().getAsLong()) : "")
              .addInputs(ModelInferRequest.InferInputTensor.newBuilder()
                  .setName(ask.wrongPayload() ? "y" : "x").setDatatype("FP64").addShape(rows))
              .addRawInputContents(ByteString.copyFrom(new byte[rows * 8]))
              .build();
          StatusRuntimeException error = assertThrows(StatusRuntimeException.class, () ->
              GRPCInferenceServiceGrpc.newBlockingStub(channel)
                  .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(
                      TestClient.bearer(ask.token())))
                  .withDeadlineAfter(ask.deadline().toMillis(), TimeUnit.MILLISECONDS)
                  .modelInfer(request));
          return new Outcome(error.getStatus().getCode().name(),
              error.getStatus().getDescription());
        } finally {
          channel.shutdownNow();
        }
      }
    },
    /** KServe V2 REST on the HTTP port: the same tensors as OIP, as JSON. */
    HTTP {
      @Override
      Outcome ask(Ask ask) {
        int rows = Math.max(1, ask.valueBytes() / 8);
        String data = String.join(",", Collections.nCopies(rows, "0.0"));
        String body = "{\"inputs\": [{\"name\": \"" + (ask.wrongPayload() ? "y" : "x")
            + "\", \"shape\": [" + rows + "], \"datatype\": \"FP64\", \"data\": [" + data
            + "]}]}";
        String path = "/v2/models/" + ask.model() + (ask.version().isPresent()
            ? "/versions/" + ask.version().getAsLong() : "") + "/infer";
        HttpResponse<String> answer;
        try {
          HttpRequest.Builder request = HttpRequest.newBuilder(
                  URI.create("http://127.0.0.1:" + gateway.httpPort() + path))
              .header("pyml-timeout-ms", Long.toString(ask.deadline().toMillis()))
              .timeout(Duration.ofSeconds(30))
              .POST(HttpRequest.BodyPublishers.ofString(body));
          if (!ask.token().isEmpty()) {
            request.header("Authorization", "Bearer " + ask.token());
          }
          answer = HttpClient.newHttpClient().send(request.build(),
              HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
          throw new AssertionError(e);
        }
        String code = HTTP_MEANINGS.getOrDefault(answer.statusCode(),
            "HTTP " + answer.statusCode());
        // The header names the gateway's error kind: it must mean the status's code too.
        String kind = answer.headers().firstValue("pyml-error").orElse("(none)");
        assertEquals(code, GrpcErrors.codeOf(ErrorKind.valueOf(kind)).name(), kind);
        try {
          return new Outcome(code, new ObjectMapper().readTree(answer.body()).get("error")
              .asText());
        } catch (Exception e) {
          throw new AssertionError(answer.body(), e);
        }
      }
    };

    abstract Outcome ask(Ask ask);
  }

  /** The access log's name of each protocol. */
  static final Map<Protocol, String> LOGGED_AS = Map.of(Protocol.GRPC, "grpc",
      Protocol.THRIFT, "thrift", Protocol.OIP, "oip", Protocol.HTTP, "v2-rest");

  /**
   * A failed call is in the access log (JSON lines here) on every protocol, whether the data
   * plane refused it or OIP's own checks did, with who asked (when the data plane knows).
   */
  @ParameterizedTest(name = "over {0}")
  @EnumSource(Protocol.class)
  void everyProtocolLogsAFailedCall(Protocol protocol) throws Exception {
    protocol.ask(Ask.of("steady").withVersion(9));
    protocol.ask(Ask.of("hanging").withDeadline(Duration.ofMillis(300)));
    ObjectMapper json = new ObjectMapper();
    Path log = work.resolve("access.log");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    boolean wrongVersion = false;
    boolean late = false;
    while (!(wrongVersion && late) && System.nanoTime() < deadline) {
      Thread.sleep(20);
      for (String text : Files.readAllLines(log)) {
        JsonNode line = json.readTree(text);
        if (!line.path("protocol").asText().equals(LOGGED_AS.get(protocol))) {
          continue;
        }
        wrongVersion |= line.path("model").asText().equals("steady")
            && line.path("version").asLong() == 9
            && line.path("status").asText().equals("NOT_FOUND");
        late |= line.path("model").asText().equals("hanging")
            && line.path("status").asText().equals("DEADLINE_EXCEEDED")
            && line.path("caller").asText().equals("ann")
            && line.path("bytes_in").asLong() > 0 && line.path("bytes_out").asLong() == 0;
      }
    }
    assertTrue(wrongVersion && late, "wrong version logged: " + wrongVersion + ", deadline "
        + "logged: " + late + "\n" + String.join("\n", Files.readAllLines(log)));
  }

  static Stream<Arguments> table() {
    List<Arguments> rows = new ArrayList<>();
    for (Case row : CASES) {
      for (Protocol protocol : Protocol.values()) {
        rows.add(Arguments.of(row, protocol));
      }
    }
    return rows.stream();
  }

  @ParameterizedTest(name = "{0} over {1}")
  @MethodSource("table")
  void everyProtocolAnswersTheSame(Case row, Protocol protocol) {
    Outcome outcome = protocol.ask(row.ask());
    assertEquals(row.code(), outcome.code(), outcome.toString());
    if (row.same() != null) {
      assertEquals(row.same(), outcome.message());
    } else {
      assertTrue(row.words().test(String.valueOf(outcome.message())), outcome.toString());
    }
  }
}
