package io.pyml.gateway.sidecar;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many runtime workers (Python processes, each loading the model and serving on a socket
 * of its own) one runtime runs, and where their sockets are. Calls into one Python process are
 * serialized, so a runtime uses about one CPU per worker.
 */
public final class RuntimeWorkers {
  /** Automatic: one worker per CPU the runtime is given, at most this many. */
  public static final int MAX_AUTO = 8;
  /** What an operator may set; the runtime accepts up to 32. */
  public static final int MAX = 32;
  /** The runtime's setting, which the launchers pass. */
  public static final String ENV = "PYML_RUNTIME_WORKERS";
  /**
   * The runtime's setting that runs each worker on CPUs of its own (its share of the runtime's),
   * counted from this offset: a runtime's grpcio server hands every call between two threads,
   * and across cores that costs tens of microseconds a call on a virtual machine.
   */
  public static final String CPU_OFFSET_ENV = "PYML_RUNTIME_CPU_OFFSET";
  private static final AtomicInteger NEXT_CPU = new AtomicInteger();

  private RuntimeWorkers() {}

  /**
   * {@code setting} when positive (the operator's fixed count), else one worker per CPU of
   * {@code cpus} (rounded up), 1 to {@link #MAX_AUTO}.
   */
  public static int resolve(int setting, double cpus) {
    if (setting > 0) {
      return setting;
    }
    return (int) Math.max(1, Math.min(MAX_AUTO, Math.ceil(cpus)));
  }

  /**
   * The CPU offset of the next runtime of {@code workers} workers: each runtime starts one CPU
   * further on per worker of the one before, so that the first workers of many runtimes do not
   * all run on the first CPUs.
   */
  public static int nextCpuOffset(int workers) {
    return NEXT_CPU.getAndAdd(workers) & 0xFFFF; // non-negative, also once the counter wraps
  }

  /**
   * The socket of worker {@code index}: {@code first} itself for worker 0, else
   * {@code <stem>-<index><suffix>} beside it ({@code model.sock}, {@code model-1.sock}, ...);
   * the runtime's {@code pyml_runtime.workers.worker_socket} follows the same rule.
   */
  public static Path socket(Path first, int index) {
    if (index == 0) {
      return first;
    }
    String name = first.getFileName().toString();
    int dot = name.lastIndexOf('.');
    String stem = dot > 0 ? name.substring(0, dot) : name;
    String suffix = dot > 0 ? name.substring(dot) : "";
    return first.resolveSibling(stem + "-" + index + suffix);
  }

  /** The sockets of {@code workers} workers, worker 0's first. */
  public static List<Path> sockets(Path first, int workers) {
    List<Path> sockets = new ArrayList<>(workers);
    for (int i = 0; i < workers; i++) {
      sockets.add(socket(first, i));
    }
    return List.copyOf(sockets);
  }
}
