package io.pyml.gateway.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.FakeRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One client over two runtime workers (fake runtimes on real Unix sockets). */
class SidecarWorkersTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private Path dir;
  private FakeRuntime first;
  private FakeRuntime second;
  private SidecarTransport transport;
  private SidecarClient client;

  @BeforeEach
  void start() throws Exception {
    dir = Files.createTempDirectory(Path.of("/tmp"), "pyml-swt-");
    List<Path> sockets = RuntimeWorkers.sockets(dir.resolve("model.sock"), 2);
    first = new FakeRuntime("m", FakeModel.dataframe(), sockets.get(0)).start();
    // The second worker loads for 2 s: the runtime is not SERVING until it is.
    second = new FakeRuntime("m", new FakeModel(PayloadKind.DATAFRAME, Duration.ofSeconds(2),
        true, false), sockets.get(1)).start();
    transport = new SidecarTransport(1024 * 1024);
    client = transport.connect("m", sockets);
  }

  @AfterEach
  void stop() {
    client.closeNow();
    first.close();
    second.close();
    transport.close();
    SocketDirs.deleteRecursively(dir);
  }

  private static Payload text(String value) {
    return new Payload(PayloadKind.DATAFRAME, ByteString.copyFromUtf8(value));
  }

  @Test
  void servingOnlyWhenEveryWorkerIs() throws Exception {
    assertEquals(2, client.workers());
    assertEquals(RuntimeHealth.NOT_SERVING, client.health(TIMEOUT), "worker 1 still loads");
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (client.health(TIMEOUT) != RuntimeHealth.SERVING && System.nanoTime() < until) {
      Thread.sleep(20);
    }
    assertEquals(RuntimeHealth.SERVING, client.health(TIMEOUT));
  }

  @Test
  void theFirstIdleWorkerTakesEachCallAndABusyOneIsPassedOver() throws Exception {
    for (int i = 0; i < 4; i++) {
      client.predict(text("row" + i), TIMEOUT).get(5, TimeUnit.SECONDS);
    }
    assertEquals(4, first.received.size(), "one call at a time: the first worker takes each");
    assertEquals(0, second.received.size());

    CompletableFuture<Payload> held = client.predict(text(FakeModel.HOLD), TIMEOUT);
    FakeRuntime holder = awaitHold();
    FakeRuntime other = holder == first ? second : first;
    int before = other.received.size();
    for (int i = 0; i < 4; i++) {
      client.predict(text("more" + i), TIMEOUT).get(5, TimeUnit.SECONDS);
    }
    assertEquals(before + 4, other.received.size(), "calls go to the worker with none in flight");
    holder.release.complete(null);
    held.get(5, TimeUnit.SECONDS);
  }

  @Test
  void aWorkerThatOverrunsWithoutAnsweringIsStuck() throws Exception {
    client.predict(text("warm"), TIMEOUT).get(5, TimeUnit.SECONDS); // worker 0 answers
    assertEquals(Optional.empty(), client.stuckWorker());
    CompletableFuture<Payload> held = client.predict(text(FakeModel.HOLD), TIMEOUT);
    FakeRuntime holder = awaitHold(); // worker 0, busy: the hung call goes to worker 1
    CompletableFuture<Payload> hung = client.predict(text(FakeModel.HANG), Duration.ofMillis(300));
    ExecutionException error = assertThrows(
        ExecutionException.class, () -> hung.get(5, TimeUnit.SECONDS));
    assertEquals(ErrorKind.DEADLINE_EXCEEDED, ((GatewayException) error.getCause()).kind());
    assertEquals(Optional.of(1), client.stuckWorker(), "worker 1 took the hung call");
    holder.release.complete(null);
    held.get(5, TimeUnit.SECONDS);
  }

  private FakeRuntime awaitHold() throws InterruptedException {
    for (int i = 0; i < 500; i++) {
      if (first.holdStarted.getCount() == 0) {
        return first;
      }
      if (second.holdStarted.getCount() == 0) {
        return second;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no worker got the held call");
  }
}
