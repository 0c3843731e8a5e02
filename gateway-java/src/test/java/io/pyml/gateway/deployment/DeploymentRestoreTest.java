package io.pyml.gateway.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyml.gateway.registry.ModelRegistry;
import io.pyml.gateway.sidecar.ResourceLimits;
import io.pyml.gateway.sidecar.RunningSidecar;
import io.pyml.gateway.sidecar.RuntimeSpec;
import io.pyml.gateway.sidecar.SidecarLauncher;
import io.pyml.gateway.sidecar.SidecarTransport;
import io.pyml.gateway.state.DeploymentStore;
import io.pyml.gateway.state.DesiredDeployment;
import io.pyml.gateway.testing.FakeLauncher;
import io.pyml.gateway.testing.FakeSidecar;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A restarted gateway serves its recorded deployments again, adopting what still runs. */
class DeploymentRestoreTest {
  @TempDir
  Path root;

  /** The store in memory. */
  static final class MemoryStore implements DeploymentStore {
    final Map<String, DesiredDeployment> entries = new TreeMap<>();

    @Override
    public synchronized List<DesiredDeployment> load() {
      return List.copyOf(entries.values());
    }

    @Override
    public synchronized void put(DesiredDeployment desired) {
      entries.put(desired.name(), desired);
    }

    @Override
    public synchronized void remove(String name) {
      entries.remove(name);
    }
  }

  /** Fake runtimes; one of "cancer" v1 is left running by a "previous run". */
  static final class Launcher implements SidecarLauncher {
    final FakeLauncher fake = new FakeLauncher();
    final List<RunningSidecar> leftovers = new ArrayList<>();
    final AtomicInteger launches = new AtomicInteger();
    int removedUnadopted = -1;

    @Override
    public RunningSidecar launch(RuntimeSpec spec, Path socketDir) throws IOException {
      launches.incrementAndGet();
      return fake.launch(spec, socketDir);
    }

    @Override
    public synchronized Optional<RunningSidecar> adopt(RuntimeSpec spec, Path workDir) {
      return leftovers.isEmpty() ? Optional.empty() : Optional.of(leftovers.remove(0));
    }

    @Override
    public synchronized void removeUnadopted(Path workDir) {
      removedUnadopted = leftovers.size();
    }
  }

  @Test
  void recordedDeploymentsComeBackAdoptingWhatStillRuns() throws Exception {
    register("cancer", 1);
    MemoryStore store = new MemoryStore();
    store.put(new DesiredDeployment("cancer", 1, "sha256:image1", 2, 0, 0.5, 0));
    store.put(new DesiredDeployment("gone", 4, "sha256:image4", 1, 0, 0, 0));
    Path work = Files.createDirectories(root.resolve("w"));
    Launcher launcher = new Launcher();
    RuntimeSpec cancer = RuntimeSpec.container("cancer", 1, "sha256:image1", "",
        new ResourceLimits(0, 0.5, 0));
    launcher.leftovers.add(launcher.fake.launch(cancer, work.resolve("d7r0a0")));

    try (SidecarTransport transport = new SidecarTransport(1 << 20);
        DeploymentManager manager = new DeploymentManager(launcher, transport, work,
            Duration.ofSeconds(20), AdmissionLimits.DEFAULTS, store, Duration.ofSeconds(5))) {
      List<Deployment> restored = manager.restore(new DeployRules(
          new ModelRegistry(root.resolve("registry")), HomeDeployPolicy.off(work),
          ResourceLimits.DEFAULT_MAXIMA));

      assertEquals(List.of("cancer"), restored.stream().map(Deployment::name).toList());
      DeploymentView view = restored.get(0).settled().get(30, TimeUnit.SECONDS);
      assertEquals(DeploymentState.READY, view.state(), view.reason());
      assertEquals(0, launcher.removedUnadopted, "nothing was left to remove");
      await(() -> restored.get(0).view().readyReplicas() == 2);
      assertEquals(1, launcher.launches.get(), "replica 0 adopted, only replica 1 launched");
      assertEquals(0, restored.get(0).view().restarts());

      DeploymentView gone = manager.find("gone").orElseThrow().view();
      assertEquals(DeploymentState.FAILED, gone.state());
      assertTrue(gone.reason().contains("not restored") && gone.reason().contains("'gone'"),
          gone.reason());
      assertTrue(store.entries.containsKey("gone"), "kept: a registry back later restores it");

      manager.undeploy("cancer").get(30, TimeUnit.SECONDS);
      assertFalse(store.entries.containsKey("cancer"), "undeploy forgets it");
    }
    assertTrue(store.entries.containsKey("gone"), "a stopping gateway forgets nothing");
  }

  @Test
  void stoppingInLeaveModeLeavesContainersRunningAndRecordedForTheNextGateway()
      throws Exception {
    register("cancer", 1);
    MemoryStore store = new MemoryStore();
    store.put(new DesiredDeployment("cancer", 1, "sha256:image1", 1, 0, 0.5, 0));
    Path work = Files.createDirectories(root.resolve("w"));
    Path home = Files.createDirectories(root.resolve("home"));
    Launcher launcher = new Launcher();
    SidecarTransport transport = new SidecarTransport(1 << 20);
    DeploymentManager manager = new DeploymentManager(launcher, transport, work,
        Duration.ofSeconds(20), AdmissionLimits.DEFAULTS, store, Duration.ofSeconds(5));
    try {
      manager.restore(new DeployRules(new ModelRegistry(root.resolve("registry")),
          HomeDeployPolicy.off(work), ResourceLimits.DEFAULT_MAXIMA));
      Deployment cancer = manager.find("cancer").orElseThrow();
      assertEquals(DeploymentState.READY,
          cancer.settled().get(30, TimeUnit.SECONDS).state());
      manager.deploy(new DeploySpec("dev", 0, home)).settled().get(30, TimeUnit.SECONDS);
      assertTrue(manager.awaitCalls(Duration.ofSeconds(1)), "no call in flight");

      manager.close(true);

      assertFalse(launcher.fake.latest("cancer", 1).stopped(), "the container is left");
      assertTrue(launcher.fake.latest("dev", 0).stopped(), "a local process never is");
      assertEquals(DeploymentState.STOPPED, cancer.state());
      assertTrue(store.entries.containsKey("cancer"), "still desired: the next gateway adopts");
    } finally {
      manager.close();
      transport.close();
      launcher.fake.launched().forEach(FakeSidecar::stop);
    }
  }

  @Test
  void aHomeFolderDeploymentIsNotRecorded() throws Exception {
    MemoryStore store = new MemoryStore();
    Path home = Files.createDirectories(root.resolve("home"));
    try (SidecarTransport transport = new SidecarTransport(1 << 20);
        DeploymentManager manager = new DeploymentManager(new FakeLauncher(), transport,
            Files.createDirectories(root.resolve("w")), Duration.ofSeconds(20),
            AdmissionLimits.DEFAULTS, store,
            Duration.ofSeconds(5))) {
      manager.deploy(new DeploySpec("dev", 0, home)).settled().get(30, TimeUnit.SECONDS);
      assertEquals(Map.of(), store.entries);
    }
  }

  private static void await(java.util.function.BooleanSupplier condition) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "condition not met in 20 s");
      Thread.sleep(50);
    }
  }

  private void register(String name, long version) throws Exception {
    Path dir = Files.createDirectories(root.resolve("registry/models").resolve(name)
        .resolve("versions").resolve(Long.toString(version)));
    byte[] archive = "archive".getBytes(StandardCharsets.UTF_8);
    Files.write(dir.resolve("home.tar.gz"), archive);
    String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(archive));
    Files.writeString(dir.resolve("manifest.json"), String.format("""
        {"format": 1, "name": "%s", "version": %d, "status": "ready", "kind": "dataframe",
         "archive_sha256": "%s", "failure": null,
         "image": {"id": "sha256:image%d", "tag": "pyml/%s:%d", "digest": "", "size_bytes": 1}}
        """, name, version, sha, version, name, version));
  }
}
