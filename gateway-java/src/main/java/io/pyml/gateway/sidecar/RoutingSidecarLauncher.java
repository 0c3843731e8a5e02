package io.pyml.gateway.sidecar;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/** Sends home-folder runtimes to the process launcher and image runtimes to the container one. */
public final class RoutingSidecarLauncher implements SidecarLauncher {
  private final SidecarLauncher processes;
  private final SidecarLauncher containers;

  public RoutingSidecarLauncher(SidecarLauncher processes, SidecarLauncher containers) {
    this.processes = processes;
    this.containers = containers;
  }

  @Override
  public RunningSidecar launch(RuntimeSpec spec, Path socketDir) throws IOException {
    return pick(spec).launch(spec, socketDir);
  }

  @Override
  public void preflight(RuntimeSpec spec) {
    pick(spec).preflight(spec);
  }

  @Override
  public Optional<RunningSidecar> adopt(RuntimeSpec spec, Path workDir) {
    return pick(spec).adopt(spec, workDir);
  }

  @Override
  public void removeUnadopted(Path workDir) {
    processes.removeUnadopted(workDir);
    containers.removeUnadopted(workDir);
  }

  @Override
  public void closeLeavingRuntimes() {
    processes.close(); // local processes are never left: nothing could adopt them
    containers.closeLeavingRuntimes();
  }

  @Override
  public void close() {
    processes.close();
    containers.close();
  }

  private SidecarLauncher pick(RuntimeSpec spec) {
    return spec.isContainer() ? containers : processes;
  }
}
