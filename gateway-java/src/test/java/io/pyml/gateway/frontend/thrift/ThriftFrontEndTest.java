package io.pyml.gateway.frontend.thrift;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyml.gateway.Gateway;
import io.pyml.gateway.sidecar.SocketDirs;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.TestClient;
import io.pyml.gateway.testing.TestConfigs;
import io.pyml.thrift.v1.ErrorCode;
import io.pyml.thrift.v1.ModelInfo;
import io.pyml.thrift.v1.ModelState;
import io.pyml.thrift.v1.Payload;
import io.pyml.thrift.v1.PayloadKind;
import io.pyml.thrift.v1.PredictRequest;
import io.pyml.thrift.v1.PredictResponse;
import io.pyml.thrift.v1.PredictionService;
import io.pyml.thrift.v1.PymlError;
import java.io.DataOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.thrift.TException;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.layered.TFramedTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * libthrift's own blocking client (framed, binary) against the real wiring: the same gateway,
 * dispatcher and fake runtimes on Unix sockets as the gRPC tests. After every test a good call
 * must still succeed, whatever the test sent.
 */
class ThriftFrontEndTest {
  static final int LIMIT = 4096;
  static final FakeLauncher LAUNCHER = new FakeLauncher()
      .model("tensor-model", FakeModel.tensors());

  static Path work;
  static Gateway gateway;

  @BeforeAll
  static void start() throws Exception {
    work = Files.createTempDirectory(Path.of("/tmp"), "pyml-thr-");
    Path home = Files.createDirectories(work.resolve("home"));
    gateway = Gateway.start(TestConfigs.ephemeral(work.resolve("w"))
        .withMaxPayloadBytes(LIMIT)
        .withDeployTimeout(Duration.ofSeconds(30)), LAUNCHER);
    try (TestClient grpc = new TestClient(gateway.grpcPort())) {
      grpc.deploy("steady", 3, home);
      grpc.deploy("tensor-model", 1, home);
    }
  }

  @AfterAll
  static void stop() {
    gateway.close();
    SocketDirs.deleteRecursively(work);
  }

  @AfterEach
  void steadyStillServes() throws TException {
    assertEquals("ereh llits", text(call(c -> c.predict(request("steady", "still here")))));
  }

  interface Call<T> {
    T run(PredictionService.Client client) throws TException;
  }

  static <T> T call(Call<T> call) throws TException {
    try (TTransport transport = new TFramedTransport(new TSocket("127.0.0.1",
        gateway.thriftPort(), 10_000))) {
      transport.open();
      return call.run(new PredictionService.Client(new TBinaryProtocol(transport)));
    }
  }

  static PymlError fails(Call<?> call) {
    return assertThrows(PymlError.class, () -> call(call));
  }

  static PredictRequest request(String model, String text) {
    return new PredictRequest().setModelName(model).setPayload(new Payload(PayloadKind.DATAFRAME,
        ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8))));
  }

  static String text(PredictResponse response) {
    return new String(response.getPayload().getArrowIpc(), StandardCharsets.UTF_8);
  }

  @Test
  void predictsThroughTheSameDataPlaneAsGrpc() throws TException {
    PredictResponse response = call(c -> c.predict(request("steady", "abc")
        .setRequestId("r-1").setModelVersion(3).setTimeoutMs(5000)));
    assertEquals("cba", text(response));
    assertEquals("steady", response.getModelName());
    assertEquals(3, response.getModelVersion());
    assertEquals("r-1", response.getRequestId());
    assertEquals(PayloadKind.DATAFRAME, response.getPayload().getKind());
    byte[] exact = new byte[LIMIT];
    exact[LIMIT - 1] = 42;
    PredictResponse big = call(c -> c.predict(new PredictRequest().setModelName("steady")
        .setPayload(new Payload(PayloadKind.DATAFRAME, ByteBuffer.wrap(exact)))));
    assertEquals(42, big.getPayload().getArrowIpc()[0]);
  }

  @Test
  void listsAndDescribesModels() throws TException {
    List<ModelInfo> models = call(c -> c.listModels(""));
    assertEquals(List.of("steady", "tensor-model"),
        models.stream().map(ModelInfo::getModelName).toList());
    ModelInfo tensor = call(c -> c.getModel("tensor-model", ""));
    assertEquals(ModelState.READY, tensor.getState());
    assertEquals(PayloadKind.TENSORS, tensor.getKind());
    assertEquals(1, tensor.getModelVersion());
    PymlError error = fails(c -> c.getModel("nope", ""));
    assertEquals(ErrorCode.NOT_FOUND, error.getCode());
    assertEquals("model 'nope' is not deployed", error.getMessage());
  }

  @Test
  void errorsUseTheGrpcCodesAndMessages() {
    PymlError error = fails(c -> c.predict(request("nope", "x")));
    assertEquals(ErrorCode.NOT_FOUND, error.getCode());
    assertEquals("NOT_FOUND", error.getDetails().get("pyml-error"));

    error = fails(c -> c.predict(request("steady", "x").setModelVersion(9)));
    assertEquals(ErrorCode.NOT_FOUND, error.getCode());
    assertEquals("model 'steady' version 9 is not deployed (live version: 3)", error.getMessage());

    error = fails(c -> c.predict(request("tensor-model", "x")));
    assertEquals(ErrorCode.INVALID_ARGUMENT, error.getCode());
    assertEquals("model 'tensor-model' takes a TENSORS payload, got DATAFRAME",
        error.getMessage());

    error = fails(c -> c.predict(new PredictRequest().setModelName("steady")));
    assertEquals(ErrorCode.INVALID_ARGUMENT, error.getCode());

    error = fails(c -> c.predict(new PredictRequest().setModelName("steady").setPayload(
        new Payload(PayloadKind.DATAFRAME, ByteBuffer.wrap(new byte[LIMIT + 1])))));
    assertEquals(ErrorCode.RESOURCE_EXHAUSTED, error.getCode());
    assertEquals(
        "payload of 4097 bytes for model 'steady' is over the gateway's limit of 4096 bytes",
        error.getMessage());
  }

  @Test
  void theRuntimesOwnErrorsPassThroughWithTheirDetails() {
    PymlError error = fails(c -> c.predict(request("steady", FakeModel.BOOM)));
    assertEquals(ErrorCode.INTERNAL, error.getCode());
    assertEquals("model 'steady' raised ValueError: boom", error.getMessage());
    assertEquals("MODEL_ERROR", error.getDetails().get("pyml-error"));
    assertEquals("ValueError", error.getDetails().get("pyml-exception-type"));

    error = fails(c -> c.predict(request("steady", FakeModel.BAD_COLUMN)));
    assertEquals(ErrorCode.INVALID_ARGUMENT, error.getCode());
    assertEquals("INVALID_INPUT", error.getDetails().get("pyml-error"));
  }

  @Test
  void anOversizedFrameClosesOnlyThatConnection() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", gateway.thriftPort())) {
      socket.setSoTimeout(10_000);
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      out.writeInt(LIMIT + 64 * 1024 + 1); // over limit + envelope margin; never sent
      out.write(new byte[16]);
      out.flush();
      InputStream in = socket.getInputStream();
      assertEquals(-1, in.read(), "the server closes the connection without an answer");
    }
  }

  @Test
  void aTruncatedFrameIsDroppedAndTheServerGoesOn() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", gateway.thriftPort())) {
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      out.writeInt(1000);
      out.write(new byte[10]); // then the client goes away
      out.flush();
    }
    assertTrue(call(c -> c.listModels("")).size() >= 2);
  }

  @Test
  void garbageInsideAFrameClosesThatConnection() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", gateway.thriftPort())) {
      socket.setSoTimeout(10_000);
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      byte[] garbage = "this is not a thrift message".getBytes(StandardCharsets.UTF_8);
      out.writeInt(garbage.length);
      out.write(garbage);
      out.flush();
      assertEquals(-1, socket.getInputStream().read());
    }
  }

  @Test
  void theErrorTableCoversEveryKind() {
    for (var kind : io.pyml.gateway.core.ErrorKind.values()) {
      assertTrue(ThriftErrors.CODES.containsKey(kind), kind.name());
    }
    assertArrayEquals(new int[] {3, 5, 8, 13, 14}, new int[] {
        ErrorCode.INVALID_ARGUMENT.getValue(), ErrorCode.NOT_FOUND.getValue(),
        ErrorCode.RESOURCE_EXHAUSTED.getValue(), ErrorCode.INTERNAL.getValue(),
        ErrorCode.UNAVAILABLE.getValue()}, "the gRPC status numbers");
  }
}
