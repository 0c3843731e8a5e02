package io.pyml.gateway.deployment;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.pyml.gateway.sidecar.SidecarClient;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A replica's room and routing, with no runtime behind it. */
class ReplicaTest {
  private static Replica.Runtime runtime() {
    // A client whose channel is never used: the replica only asks how many workers it has.
    return new Replica.Runtime(null, new SidecarClient("m",
        NettyChannelBuilder.forAddress("localhost", 1).usePlaintext().build()));
  }

  /**
   * A runtime's death is known (its exit noted) a moment before its supervisor takes it out of
   * routing: in between, a call placed on it failed with "runtime process exited with code
   * 137" while the other replica was ready (GatewayLifecycleTest, one CI run in several).
   */
  @Test
  void aReplicaWhoseRuntimeIsKnownDownTakesNoCallsBeforeItsSupervisorDetachesIt() {
    Replica dying = new Replica("m", 0, 4, 1 << 20);
    Replica.Runtime runtime = runtime();
    dying.attach(runtime);
    dying.markReady();
    Replica other = new Replica("m", 1, 4, 1 << 20);
    other.attach(runtime());
    other.markReady();
    assertTrue(dying.tryReserve(10));
    dying.unreserve(10);

    runtime.noteDown("runtime process exited with code 137");

    assertFalse(dying.tryReserve(10), "a runtime known down is out of routing");
    for (int i = 0; i < 4; i++) {
      Replica placed = new LeastLoaded().reserve(List.of(dying, other), 10);
      assertSame(other, placed);
      placed.unreserve(10);
    }
  }
}
