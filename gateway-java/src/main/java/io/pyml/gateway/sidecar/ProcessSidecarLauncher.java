package io.pyml.gateway.sidecar;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Runs {@code <runtime-command> serve --home HOME --socket SOCK --name NAME} as a child process,
 * from an argument list (never a shell), confined by a {@link ProcessSandbox} (clean
 * environment, limits, uid 65534 when the gateway is root), with stdout and stderr in
 * {@code socketDir/runtime.log} and the sockets (one per runtime worker, {@link RuntimeWorkers})
 * in {@code socketDir/run/}. The workers run as one process tree; rlimits apply to each of them
 * (RLIMIT_DATA bounds each worker's memory, not their sum as a container's limit does).
 */
public final class ProcessSidecarLauncher implements SidecarLauncher {
  public static final String SOCKET_FILE = "model.sock";
  public static final String LOG_FILE = "runtime.log";

  private final List<String> runtimeCommand;
  private final ProcessSandbox sandbox;
  private final int workers;

  /** One runtime worker per CPU of {@code limits} ({@link RuntimeWorkers#resolve}). */
  public ProcessSidecarLauncher(List<String> runtimeCommand, ResourceLimits limits) {
    this(runtimeCommand, limits, 0);
  }

  /**
   * {@code limits}: the containers' defaults, applied to processes as far as rlimits go;
   * {@code workersSetting}: runtime workers per runtime, 0 for one per CPU of the limits.
   */
  public ProcessSidecarLauncher(List<String> runtimeCommand, ResourceLimits limits,
      int workersSetting) {
    this(runtimeCommand, ProcessSandbox.forThisProcess(limits),
        RuntimeWorkers.resolve(workersSetting, limits.cpus()));
  }

  ProcessSidecarLauncher(List<String> runtimeCommand, ProcessSandbox sandbox, int workers) {
    this.runtimeCommand = List.copyOf(runtimeCommand);
    this.sandbox = sandbox;
    this.workers = workers;
  }

  @Override
  public RunningSidecar launch(RuntimeSpec spec, Path socketDir) throws IOException {
    Path home = spec.home().orElseThrow(() ->
        new IllegalArgumentException("a process runtime needs a home folder"));
    Path socket = socketDir.resolve("run").resolve(SOCKET_FILE);
    List<Path> sockets = RuntimeWorkers.sockets(socket, workers);
    SocketDirs.checkSocketPath(sockets.get(sockets.size() - 1));
    Process process;
    try {
      ProcessSandbox.Layout layout = sandbox.prepare(home, socketDir);
      process = start(spec.name(), layout, socket, socketDir.resolve(LOG_FILE));
    } catch (IOException | RuntimeException e) {
      SocketDirs.deleteRecursively(socketDir);
      throw new IOException("cannot start runtime command " + runtimeCommand + ": "
          + e.getMessage(), e);
    }
    return new ProcessSidecar(process, socketDir, sockets, socketDir.resolve(LOG_FILE));
  }

  private Process start(String name, ProcessSandbox.Layout layout, Path socket, Path log)
      throws IOException {
    Path executable = ProcessSandbox.resolveExecutable(runtimeCommand.get(0));
    if (!Files.isRegularFile(executable) || !Files.isExecutable(executable)) {
      // Checked here: prlimit would start, and only then fail to run it.
      throw new IOException(executable + " is not an executable file");
    }
    List<String> command = new ArrayList<>(List.of(executable.toString()));
    command.addAll(runtimeCommand.subList(1, runtimeCommand.size()));
    command.addAll(List.of("serve", "--home", layout.home().toString(), "--socket",
        socket.toString(), "--name", name));
    ProcessBuilder builder = new ProcessBuilder(sandbox.wrap(command))
        .directory(layout.home().toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    Map<String, String> env = builder.environment();
    env.clear(); // nothing of the gateway's own environment reaches model code
    env.putAll(ProcessSandbox.environment(executable, layout.tmpDir()));
    env.put(RuntimeWorkers.ENV, Integer.toString(workers));
    env.put(RuntimeWorkers.CPU_OFFSET_ENV,
        Integer.toString(RuntimeWorkers.nextCpuOffset(workers)));
    return builder.start();
  }
}
