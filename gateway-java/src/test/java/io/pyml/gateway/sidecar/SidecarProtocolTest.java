package io.pyml.gateway.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.GatewayVersion;
import io.pyml.gateway.testing.FakeModel;
import io.pyml.gateway.testing.FakeRuntime;
import io.pyml.proto.v1.GetMetadataRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The gateway's side of the sidecar protocol's version check, against fake runtimes. */
class SidecarProtocolTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  private Path dir;
  private SidecarTransport transport;
  private FakeRuntime runtime;
  private SidecarClient client;

  @BeforeEach
  void start() throws Exception {
    dir = Files.createTempDirectory(Path.of("/tmp"), "pyml-spt-");
    transport = new SidecarTransport(1024 * 1024);
  }

  @AfterEach
  void stop() {
    if (client != null) {
      client.closeNow();
    }
    if (runtime != null) {
      runtime.close();
    }
    transport.close();
    SocketDirs.deleteRecursively(dir);
  }

  private SidecarClient runtimeOf(FakeModel model) throws Exception {
    Path socket = dir.resolve("model.sock");
    runtime = new FakeRuntime("m", model.loadingFor(Duration.ZERO), socket).start();
    client = transport.connect("m", socket);
    return client;
  }

  @Test
  void onlyItsOwnProtocolIsAccepted() {
    assertEquals(1, SidecarProtocol.VERSION);
    assertTrue(SidecarProtocol.accepts(1));
    assertFalse(SidecarProtocol.accepts(0), "a runtime from before versioning");
    assertFalse(SidecarProtocol.accepts(2));
  }

  @Test
  void theMessageNamesTheModelBothSidesAndTheFix() {
    GatewayException error = SidecarProtocol.mismatch("iris", 3, "0.2.0", 2);
    assertEquals(ErrorKind.FAILED_PRECONDITION, error.kind());
    String gateway = GatewayVersion.current();
    assertEquals("model 'iris' version 3 cannot be served by this gateway: its runtime is "
        + "PyML 0.2.0 (sidecar protocol 2) and this gateway is PyML " + gateway
        + " (sidecar protocol 1). Package the model again with PyML " + gateway
        + " (`pyml package`), or serve it with a gateway of PyML 0.2.0", error.getMessage());
    assertTrue(SidecarProtocol.mismatch("iris", 3, "", 0).getMessage().contains(
        "its runtime is an unknown PyML (sidecar protocol 0: from before versioning)"));
    assertTrue(SidecarProtocol.mismatch("iris", 3, "9".repeat(10_000), 2).getMessage()
        .contains("its runtime is PyML " + "9".repeat(40) + "… (sidecar protocol 2)"));
  }

  @Test
  void aRuntimeOfTheGatewaysProtocolAnswersAndHearsWhatTheGatewayIs() throws Exception {
    RuntimeMetadata metadata = SidecarProtocol.metadata(runtimeOf(FakeModel.dataframe()), "m", 1,
        TIMEOUT);
    assertEquals(1, metadata.sidecarProtocol());
    GetMetadataRequest asked = runtime.metadataRequests.get(0);
    assertEquals(SidecarProtocol.VERSION, asked.getGatewayProtocol());
    assertEquals(GatewayVersion.current(), asked.getGatewayVersion());
  }

  @Test
  void aRuntimeFromBeforeVersioningIsRefusedByTheGateway() throws Exception {
    SidecarClient old = runtimeOf(FakeModel.dataframe().speaking(0, "0.0.9"));
    GatewayException error = assertThrows(GatewayException.class,
        () -> SidecarProtocol.metadata(old, "m", 4, TIMEOUT));
    assertEquals(ErrorKind.FAILED_PRECONDITION, error.kind());
    assertEquals(SidecarProtocol.mismatch("m", 4, "0.0.9", 0).getMessage(), error.getMessage());
  }

  @Test
  void aRuntimeThatRefusesTheGatewayGivesTheSameMessage() throws Exception {
    SidecarClient newer = runtimeOf(FakeModel.dataframe().speaking(2, "0.2.0"));
    GatewayException error = assertThrows(GatewayException.class,
        () -> SidecarProtocol.metadata(newer, "m", 4, TIMEOUT));
    assertEquals(ErrorKind.FAILED_PRECONDITION, error.kind());
    assertEquals(SidecarProtocol.mismatch("m", 4, "0.2.0", 2).getMessage(), error.getMessage());
    assertTrue(error.runtimeStatus().isEmpty(), "the gateway's message, not the runtime's");
  }
}
