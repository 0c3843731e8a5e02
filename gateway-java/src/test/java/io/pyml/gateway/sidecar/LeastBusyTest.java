package io.pyml.gateway.sidecar;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a runtime's calls are spread over its workers, and where the workers listen. */
class LeastBusyTest {
  @Test
  void theFirstIdleWorkerTakesTheCallSoThatAtLowLoadOneWorkerStaysWarm() {
    LeastBusy choice = new LeastBusy();
    for (int i = 0; i < 4; i++) {
      assertEquals(0, choice.choose(3, worker -> 0), "every worker idle: the first, each time");
    }
    int[] calls = {1, 0, 0};
    assertEquals(1, choice.choose(3, worker -> calls[worker]), "the first of the idle ones");
  }

  @Test
  void theWorkerWithFewestCallsInFlightIsChosen() {
    LeastBusy choice = new LeastBusy();
    int[] calls = {2, 0, 1};
    for (int i = 0; i < 5; i++) {
      assertEquals(1, choice.choose(3, worker -> calls[worker]), "whichever the turn");
    }
    int[] tied = {1, 3, 1};
    List<Integer> chosen = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      chosen.add(choice.choose(3, worker -> tied[worker]));
    }
    assertEquals(List.of(0, 2), chosen.stream().distinct().sorted().toList(), "ties take turns");
  }

  @Test
  void oneWorkerIsAlwaysChosen() {
    LeastBusy choice = new LeastBusy();
    assertEquals(0, choice.choose(1, worker -> 5));
    assertEquals(0, choice.choose(1, worker -> 0));
  }

  @Test
  void workerSocketsFollowTheRuntimesNamingRule() {
    Path first = Path.of("/w/d1r0a0/model.sock");
    assertEquals(List.of(first, Path.of("/w/d1r0a0/model-1.sock"),
        Path.of("/w/d1r0a0/model-2.sock")), RuntimeWorkers.sockets(first, 3));
    assertEquals(Path.of("/w/run/model-10.sock"),
        RuntimeWorkers.socket(Path.of("/w/run/model.sock"), 10));
  }

  @Test
  void eachRuntimesWorkersStartOnTheCpusAfterThoseOfTheRuntimeBefore() {
    int first = RuntimeWorkers.nextCpuOffset(2);
    int second = RuntimeWorkers.nextCpuOffset(1);
    assertEquals((first + 2) & 0xFFFF, second);
    assertEquals((second + 1) & 0xFFFF, RuntimeWorkers.nextCpuOffset(3));
  }

  @Test
  void automaticWorkersFollowTheCpuLimit() {
    assertEquals(1, RuntimeWorkers.resolve(0, 0.5));
    assertEquals(2, RuntimeWorkers.resolve(0, 1.5));
    assertEquals(2, RuntimeWorkers.resolve(0, 2.0));
    assertEquals(RuntimeWorkers.MAX_AUTO, RuntimeWorkers.resolve(0, 64));
    assertEquals(3, RuntimeWorkers.resolve(3, 1.0), "the operator's count wins");
  }
}
