package io.pyml.gateway.testing;

import io.pyml.gateway.sidecar.RunningSidecar;
import io.pyml.gateway.sidecar.RuntimeSpec;
import io.pyml.gateway.sidecar.SidecarLauncher;
import io.pyml.gateway.sidecar.SocketDirs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** Launches {@link FakeRuntime}s in-process, one per deployment, on real Unix sockets. */
public final class FakeLauncher implements SidecarLauncher {
  private final Map<String, FakeModel> models = new ConcurrentHashMap<>();
  private final Map<String, FakeModel> restarts = new ConcurrentHashMap<>();
  private final List<FakeSidecar> launched = new CopyOnWriteArrayList<>();

  /** Behaviour of {@code name}'s runtimes after its first launch (restarts, more replicas). */
  public FakeLauncher onRestart(String name, FakeModel model) {
    restarts.put(name, model);
    return this;
  }

  /** Behaviour of every version of {@code name} (unless set for a version). */
  public FakeLauncher model(String name, FakeModel model) {
    models.put(name, model);
    return this;
  }

  public FakeLauncher model(String name, long version, FakeModel model) {
    models.put(name + "@" + version, model);
    return this;
  }

  @Override
  public RunningSidecar launch(RuntimeSpec spec, Path socketDir) throws IOException {
    String name = spec.name();
    long version = spec.version();
    boolean again = launched.stream().anyMatch(l -> l.name().equals(name));
    FakeModel model = again && restarts.containsKey(name) ? restarts.get(name)
        : models.getOrDefault(name + "@" + version,
            models.getOrDefault(name, FakeModel.dataframe()));
    SocketDirs.create(socketDir);
    FakeSidecar sidecar = new FakeSidecar(name, version, model, socketDir)
        .adoptable(spec.isContainer());
    launched.add(sidecar);
    sidecar.start();
    return sidecar;
  }

  /** The most recently launched sidecar of this model version. */
  public FakeSidecar latest(String name, long version) {
    for (int i = launched.size() - 1; i >= 0; i--) {
      FakeSidecar sidecar = launched.get(i);
      if (sidecar.name().equals(name) && sidecar.version() == version) {
        return sidecar;
      }
    }
    throw new AssertionError("no sidecar was launched for " + name + " version " + version);
  }

  public List<FakeSidecar> launched() {
    return List.copyOf(launched);
  }
}
