package io.pyml.gateway.sidecar;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs {@code <runtime-command> serve --home HOME --socket SOCK --name NAME} as a child process,
 * from an argument list (never a shell), with stdout and stderr in {@code socketDir/runtime.log}.
 */
public final class ProcessSidecarLauncher implements SidecarLauncher {
  public static final String SOCKET_FILE = "model.sock";
  public static final String LOG_FILE = "runtime.log";

  private final List<String> runtimeCommand;

  public ProcessSidecarLauncher(List<String> runtimeCommand) {
    this.runtimeCommand = List.copyOf(runtimeCommand);
  }

  @Override
  public RunningSidecar launch(RuntimeSpec spec, Path socketDir) throws IOException {
    String name = spec.name();
    Path home = spec.home().orElseThrow(() ->
        new IllegalArgumentException("a process runtime needs a home folder"));
    SocketDirs.create(socketDir);
    Path socket = socketDir.resolve(SOCKET_FILE);
    SocketDirs.checkSocketPath(socket);
    Path log = socketDir.resolve(LOG_FILE);
    List<String> command = new ArrayList<>(runtimeCommand);
    command.addAll(List.of("serve", "--home", home.toString(), "--socket", socket.toString(),
        "--name", name));
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(home.toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    // Unbuffered, so the log tail shows the runtime's last words when it fails.
    builder.environment().put("PYTHONUNBUFFERED", "1");
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      SocketDirs.deleteRecursively(socketDir);
      throw new IOException("cannot start runtime command " + runtimeCommand + ": "
          + e.getMessage(), e);
    }
    return new ProcessSidecar(process, socketDir, socket, log);
  }
}
