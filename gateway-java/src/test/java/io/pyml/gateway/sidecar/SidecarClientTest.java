package io.pyml.gateway.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.gateway.core.RuntimeStatus;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.FakeRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The sidecar client against a fake runtime served by grpc-java on a real Unix socket. */
class SidecarClientTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private Path dir;
  private Path socket;
  private FakeRuntime runtime;
  private SidecarTransport transport;
  private SidecarClient client;

  @BeforeEach
  void start() throws Exception {
    dir = Files.createTempDirectory(Path.of("/tmp"), "pyml-sct-");
    socket = dir.resolve("model.sock");
    // Loads for 2 s: long enough to see NOT_SERVING first, even on a busy machine.
    runtime = new FakeRuntime("m", new FakeModel(PayloadKind.DATAFRAME, Duration.ofSeconds(2),
        true, false), socket).start();
    transport = new SidecarTransport(4 * 1024 * 1024);
    client = transport.connect("m", socket);
  }

  @AfterEach
  void stop() {
    client.closeNow();
    runtime.close();
    transport.close();
    SocketDirs.deleteRecursively(dir);
  }

  @Test
  void theSocketAcceptsAndHealthTurnsServingOnceLoaded() throws Exception {
    assertTrue(SocketProbe.accepts(socket));
    assertFalse(SocketProbe.accepts(dir.resolve("nothing.sock")));
    assertEquals(RuntimeHealth.NOT_SERVING, client.health(TIMEOUT), "still loading");
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (client.health(TIMEOUT) != RuntimeHealth.SERVING && System.nanoTime() < until) {
      Thread.sleep(20);
    }
    assertEquals(RuntimeHealth.SERVING, client.health(TIMEOUT));
  }

  /** Issue 15/16: every runtime channel logged "Unknown channel option 'SO_KEEPALIVE'". */
  @Test
  void aRuntimeChannelLogsNoWarning() throws Exception {
    Logger bootstrap = Logger.getLogger("io.grpc.netty.shaded.io.netty.bootstrap.Bootstrap");
    List<LogRecord> warnings = new CopyOnWriteArrayList<>();
    Handler handler = new Handler() {
      @Override
      public void publish(LogRecord record) {
        if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
          warnings.add(record);
        }
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    bootstrap.addHandler(handler);
    try (SidecarTransport fresh = new SidecarTransport(1024 * 1024)) {
      SidecarClient other = fresh.connect("m", socket);
      try {
        other.health(TIMEOUT); // connects
      } finally {
        other.closeNow();
      }
    } finally {
      bootstrap.removeHandler(handler);
    }
    assertEquals(List.of(), warnings.stream().map(LogRecord::getMessage).toList());
  }

  @Test
  void metadataAndValidationCalls() {
    RuntimeMetadata metadata = client.metadata(TIMEOUT);
    assertEquals("m", metadata.name());
    assertEquals(PayloadKind.DATAFRAME, metadata.kind());
    assertEquals("model.Fake", metadata.modelClass());

    Payload input = client.validationInput(TIMEOUT);
    assertEquals(FakeModel.VALIDATION_INPUT, input.arrowIpc().toStringUtf8());
    Payload wrong = new Payload(PayloadKind.DATAFRAME, input.arrowIpc());
    ValidationResult failed = client.checkValidationOutput(wrong, TIMEOUT);
    assertFalse(failed.passed());
    assertEquals(FakeModel.VALIDATION_DIFF, failed.diff());
    Payload right = client.predict(input, TIMEOUT).join();
    assertTrue(client.checkValidationOutput(right, TIMEOUT).passed());
  }

  @Test
  void predictSendsTheBytesAsTheyAre() {
    byte[] bytes = new byte[300_000];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (i * 31);
    }
    Payload answer = client.predict(
        new Payload(PayloadKind.TENSORS, ByteString.copyFrom(bytes)), TIMEOUT).join();
    assertEquals(ByteString.copyFrom(bytes), runtime.received.get(0));
    assertEquals(PayloadKind.TENSORS, answer.kind());
    assertEquals(bytes.length, answer.sizeBytes());
    assertEquals(bytes[0], answer.arrowIpc().byteAt(bytes.length - 1));
  }

  @Test
  void theRuntimesErrorsKeepCodeDescriptionAndTrailers() {
    GatewayException error = failure(client.predict(payload(FakeModel.BOOM), TIMEOUT));
    assertEquals(ErrorKind.MODEL_ERROR, error.kind());
    RuntimeStatus status = error.runtimeStatus().orElseThrow();
    assertEquals("INTERNAL", status.code());
    assertEquals("model 'm' raised ValueError: boom", status.description());
    assertEquals(Map.of("pyml-error", "MODEL_ERROR", "pyml-exception-type", "ValueError"),
        status.trailers());

    GatewayException invalid = failure(client.predict(payload(FakeModel.BAD_COLUMN), TIMEOUT));
    assertEquals(ErrorKind.INVALID_INPUT, invalid.kind());
    assertEquals("column 'age': int64 (expected: float64)",
        invalid.runtimeStatus().orElseThrow().description());
  }

  @Test
  void aSlowRuntimeMeetsTheDeadline() {
    long start = System.nanoTime();
    GatewayException error =
        failure(client.predict(payload(FakeModel.HANG), Duration.ofMillis(300)));
    assertEquals(ErrorKind.DEADLINE_EXCEEDED, error.kind());
    assertEquals("model 'm' did not answer within 300 ms", error.getMessage());
    assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(3));
  }

  @Test
  void aVanishedRuntimeIsUnavailableNamingTheModel() {
    runtime.close();
    GatewayException error = failure(client.predict(payload("x"), TIMEOUT));
    assertEquals(ErrorKind.UNAVAILABLE, error.kind());
    assertTrue(error.getMessage().startsWith("model 'm' runtime is unavailable: "),
        error.getMessage());
    GatewayException health =
        assertThrows(GatewayException.class, () -> client.health(Duration.ofMillis(500)));
    assertEquals(ErrorKind.UNAVAILABLE, health.kind());
  }

  /**
   * A small answer goes on from the runtime channel's own thread (no hand-over to another
   * thread per call); a failure and a large answer never do: working out why a runtime failed
   * may ask Docker, and a large answer may be converted at length (OIP, V2 REST), which must
   * not hold up every model's answers on the shared event loop.
   */
  @Test
  void aSmallAnswerGoesOnFromTheEventLoopAndAFailureOrALargeAnswerOffIt() throws Exception {
    CompletableFuture<String> answered = client.predict(payload(FakeModel.HOLD), TIMEOUT)
        .thenApply(answer -> Thread.currentThread().getName());
    assertTrue(runtime.holdStarted.await(10, TimeUnit.SECONDS));
    runtime.release.complete(null);
    assertTrue(answered.get(10, TimeUnit.SECONDS).startsWith(SidecarTransport.EVENT_LOOP_NAME),
        answered.get());

    CompletableFuture<String> failed = client.predict(payload(FakeModel.HANG),
        Duration.ofMillis(200)).handle((answer, error) -> Thread.currentThread().getName());
    assertFalse(failed.get(10, TimeUnit.SECONDS).startsWith(SidecarTransport.EVENT_LOOP_NAME),
        failed.get());

    byte[] large = new byte[SidecarClient.INLINE_ANSWER_BYTES + 1];
    CompletableFuture<String> big = client.predict(
        new Payload(PayloadKind.DATAFRAME, ByteString.copyFrom(large)), TIMEOUT)
        .thenApply(answer -> Thread.currentThread().getName());
    assertFalse(big.get(10, TimeUnit.SECONDS).startsWith(SidecarTransport.EVENT_LOOP_NAME),
        big.get());
  }

  private static Payload payload(String text) {
    return new Payload(PayloadKind.DATAFRAME, ByteString.copyFromUtf8(text));
  }

  private static GatewayException failure(CompletableFuture<Payload> call) {
    ExecutionException error =
        assertThrows(ExecutionException.class, () -> call.get(10, TimeUnit.SECONDS));
    return assertInstanceOf(GatewayException.class, error.getCause());
  }
}
