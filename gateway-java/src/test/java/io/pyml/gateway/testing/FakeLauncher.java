package io.pyml.gateway.testing;

import io.pyml.gateway.sidecar.RunningSidecar;
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
  private final List<FakeSidecar> launched = new CopyOnWriteArrayList<>();

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
  public RunningSidecar launch(String name, long version, Path home, Path socketDir)
      throws IOException {
    FakeModel model = models.getOrDefault(name + "@" + version,
        models.getOrDefault(name, FakeModel.dataframe()));
    SocketDirs.create(socketDir);
    FakeSidecar sidecar = new FakeSidecar(name, version, model, socketDir);
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
