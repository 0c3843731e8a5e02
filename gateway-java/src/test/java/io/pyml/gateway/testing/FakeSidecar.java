package io.pyml.gateway.testing;

import io.pyml.gateway.sidecar.RunningSidecar;
import io.pyml.gateway.sidecar.SocketDirs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** A launched fake runtime, with the handle the gateway gets and a way to make it "die". */
public final class FakeSidecar implements RunningSidecar {
  private final String name;
  private final long version;
  private final FakeModel model;
  private final Path socketDir;
  private final CompletableFuture<Integer> onExit = new CompletableFuture<>();
  private final List<String> log = new CopyOnWriteArrayList<>();
  private volatile FakeRuntime runtime;
  private volatile boolean stopped;
  private volatile boolean adoptable; // as a container's: a next gateway could adopt it

  FakeSidecar(String name, long version, FakeModel model, Path socketDir) {
    this.name = name;
    this.version = version;
    this.model = model;
    this.socketDir = socketDir;
  }

  void start() throws IOException {
    log.add("fake runtime for " + name + " version " + version + " starting");
    if (model.exitOnLoad()) {
      log.add("Traceback (most recent call last):");
      log.add("ValueError: cannot load weights");
      // Exits shortly after launch, as a runtime whose model fails to load does.
      CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS)
          .execute(() -> onExit.complete(1));
      return;
    }
    runtime = new FakeRuntime(name, model, socketPath()).start();
    log.add("serving on " + socketPath());
  }

  public String name() {
    return name;
  }

  public long version() {
    return version;
  }

  public FakeRuntime runtime() {
    return runtime;
  }

  public boolean stopped() {
    return stopped;
  }

  /** The process "dies": its server vanishes, then its exit is reported. */
  public void die(int code) {
    log.add("Killed");
    runtime.close();
    onExit.complete(code);
  }

  @Override
  public Path socketPath() {
    return socketDir.resolve("model.sock");
  }

  @Override
  public CompletableFuture<Integer> onExit() {
    return onExit;
  }

  @Override
  public List<String> logTail(int lines) {
    List<String> all = List.copyOf(log);
    return all.subList(Math.max(0, all.size() - lines), all.size());
  }

  /** Adoptable, as a container's runtime is (set by the launcher for container specs). */
  FakeSidecar adoptable(boolean value) {
    adoptable = value;
    return this;
  }

  @Override
  public boolean adoptable() {
    return adoptable;
  }

  @Override
  public void stop() {
    stopped = true;
    if (runtime != null) {
      runtime.close();
    }
    onExit.complete(143);
    SocketDirs.deleteRecursively(socketDir);
  }
}
