"""Runtime workers: several Python processes serve one model, each on a socket of its own.

Calls into one Python process are serialized (one interpreter, one model lock), so a model
container given two CPUs would use one. `pyml-runtime serve --workers N` (N > 1) runs a small
supervisor instead of the server: it forks N worker processes before anything of gRPC,
pyarrow or the model is imported, and each of them is an ordinary runtime
(`pyml_runtime.server.serve`) on `worker_socket(socket, i)` in the same folder: it binds its
socket, waits for the socket-folder lock (the launcher locks the folder once all N sockets
exist), loads the model and serves. Worker 0 serves on the given path, so one worker is
exactly the runtime without a supervisor. The gateway connects to every worker's socket and
spreads calls over them.

Memory: every worker loads its own copy of the model (the model is not loaded before the
fork to share its pages: gRPC must not exist before a fork, and model code may start threads
at load), and the container's one memory limit bounds all of them together.

Native threads: numpy's OpenBLAS, MKL and OpenMP each start a pool as wide as the machine's
cores, and OpenBLAS's threads spin for a while after every call. Two workers on two cores
then spend a third of the CPU spinning (100,000-row calls: 95-100 ms of runtime CPU per call
against 12 ms of work). So each worker's pools get its share of the runtime's CPUs
(`limit_native_threads`), unless the model's image already sets any of their sizes.

CPUs: when its launcher asks (PYML_RUNTIME_CPU_OFFSET, which the gateway sets), each worker
runs on CPUs of its own, its share of those the runtime may use (`worker_cpus`). A grpcio
server hands every call from its polling thread to a pool thread and back; on another core
each hand-over is a cross-core wake-up, which on a virtual machine costs tens of
microseconds (docs/decisions.md, "Runtime workers on CPUs of their own"). The offset rotates
over the gateway's runtimes, so that the first workers of many runtimes do not all share the
first CPU. The model's own thread pool sizes (set in its image) leave its workers unpinned:
its threads are its choice.

The supervisor forwards SIGTERM/SIGINT to the workers and returns 0 once they stopped (those
that outlive the runtime's grace are killed). When a worker ends on its own (it crashed, was
killed, or its model failed to load), the supervisor stops the others and returns that
worker's code (128 + the signal when a signal ended it, 1 for a clean exit nobody asked for):
the container ends and the gateway starts a new one, so a replica never serves half alive.
"""

from __future__ import annotations

import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType

from pyml_runtime.settings import positive_int_setting

WORKERS_ENV = "PYML_RUNTIME_WORKERS"
# More processes than that would only contend for a container's CPUs (and its pids limit).
MAX_WORKERS = 32
POLL_SECONDS = 0.05
# The server's own grace (5 s) plus time to unwind; then SIGKILL.
STOP_SECONDS = 10.0
PARENT_CHECK_SECONDS = 1.0


def worker_socket(socket: Path, index: int) -> Path:
    """The socket of worker `index`: `socket` itself for worker 0, else ``<stem>-<index><suffix>``
    beside it (``model.sock``, ``model-1.sock``, ...). The gateway's Java side
    (``RuntimeSockets.workerSocket``) follows the same rule."""
    if index == 0:
        return socket
    return socket.with_name(f"{socket.stem}-{index}{socket.suffix}")


def worker_count(option: int | None, environ: Mapping[str, str]) -> int:
    """`--workers`, else PYML_RUNTIME_WORKERS, else 1; a ValueError naming the setting when
    out of range."""
    count = option if option is not None else positive_int_setting(environ, WORKERS_ENV)
    count = 1 if count is None else count
    if not 1 <= count <= MAX_WORKERS:
        raise ValueError(f"{count} runtime workers (expected: 1 to {MAX_WORKERS})")
    return count


# The thread pool sizes numpy/scipy (OpenBLAS), MKL and OpenMP (scikit-learn, torch) read when
# they load: set before the model's libraries are imported.
NATIVE_THREADS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def native_threads(workers: int, cpus: float) -> int:
    """Threads per pool of each worker: its share of the CPUs, at least 1."""
    return max(1, int(cpus // workers))


def model_sizes_its_pools(environ: Mapping[str, str]) -> bool:
    """The model's image sets a native pool's size: its threads are its choice (neither resized
    nor pinned)."""
    return any(name in environ for name in NATIVE_THREADS_ENV)


def limit_native_threads(
    workers: int, environ: MutableMapping[str, str], cpu_max: Path = CGROUP_CPU_MAX
) -> None:
    """Sizes the native thread pools of each of `workers` workers to its share of the CPUs
    this process may use; a pool size already set (by the model's image) is the model's
    choice, and then none is changed."""
    if model_sizes_its_pools(environ):
        return
    threads = str(native_threads(workers, cpu_limit(cpu_max)))
    for name in NATIVE_THREADS_ENV:
        environ[name] = threads


CPU_OFFSET_ENV = "PYML_RUNTIME_CPU_OFFSET"


def worker_cpus(
    workers: int, environ: Mapping[str, str], cpu_max: Path = CGROUP_CPU_MAX
) -> list[set[int]] | None:
    """The CPUs each of `workers` workers runs on, worker 0's first; None when they are not
    pinned: no offset asked for, the model sets its own thread pools, or a worker's share
    would be every CPU anyway. A ValueError naming the setting when the offset is no number."""
    text = environ.get(CPU_OFFSET_ENV)
    if text is None or model_sizes_its_pools(environ):
        return None
    try:
        offset = int(text.strip())
    except ValueError:
        raise ValueError(f"{CPU_OFFSET_ENV}={text!r} (expected: a whole number)") from None
    allowed = sorted(os.sched_getaffinity(0))
    share = native_threads(workers, cpu_limit(cpu_max))
    if share >= len(allowed):
        return None
    return [
        {allowed[(offset + index * share + k) % len(allowed)] for k in range(share)}
        for index in range(workers)
    ]


def run_on(cpus: set[int]) -> None:
    """Runs this thread, and every thread it starts from now on, on `cpus` only. Pinning is for
    speed: a kernel that refuses it (a CPU taken away meanwhile, a seccomp profile) leaves
    the runtime serving where it was, with one line saying so."""
    try:
        os.sched_setaffinity(0, cpus)
    except OSError as exc:
        print(
            f"pyml-runtime: not pinned to CPUs {sorted(cpus)}: {exc}", file=sys.stderr, flush=True
        )


def cpu_limit(cpu_max: Path = CGROUP_CPU_MAX) -> float:
    """The CPUs this process may use: its cgroup's quota (a container's `--cpus`), at most the
    CPUs it may run on."""
    cpus = float(len(os.sched_getaffinity(0)))
    try:
        quota, period = cpu_max.read_text().split()[:2]
        if quota != "max" and float(period) > 0:
            return max(min(cpus, float(quota) / float(period)), 0.01)
    except (OSError, ValueError):
        pass  # no cgroup v2 limit here (a process runtime on a host): the affinity decides
    return cpus


def supervise(run_worker: Callable[[int], int], workers: int, stop: threading.Event) -> int:
    """Runs `workers` processes, each forked from this one to return `run_worker(i)` as its
    exit code, until `stop` is set or one of them ends; returns the exit code of the runtime
    as a whole (see the module's docs)."""
    running: dict[int, int] = {}  # pid -> worker index
    try:
        for index in range(workers):
            running[_fork(run_worker, index)] = index
        while not stop.wait(POLL_SECONDS):
            for pid, index in list(running.items()):
                ended, status = os.waitpid(pid, os.WNOHANG)
                if ended:
                    del running[pid]
                    code = os.waitstatus_to_exitcode(status)
                    _report(index, pid, code)
                    return _exit_code(code)
        return 0
    finally:
        _stop_all(list(running))


# In a worker: its supervisor's pid, noted before the fork (after it, getppid() may already
# name whoever adopted the worker if the supervisor died in between).
_supervisor: int | None = None


def _fork(run_worker: Callable[[int], int], index: int) -> int:
    """A worker process: forked, not a new interpreter started from a file, because the runtime
    user of a process runtime may not be allowed to run this Python's executable by its path
    (a virtualenv under a private home); nothing of gRPC, pyarrow or the model is imported yet
    in this process (`cli` imports them lazily), so the worker starts as clean as a new one."""
    global _supervisor
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    supervisor = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    _supervisor = supervisor
    code = 1
    try:
        # Until the worker's server takes them over, SIGTERM/SIGINT simply end it.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_DFL)
        code = run_worker(index)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # a worker reports everything, and never returns into the supervisor
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(code)


def watch_parent(stop: threading.Event) -> None:
    """Sets `stop` once this worker's supervisor is gone (it was killed): a worker never
    outlives it (a process runtime's stop signals the supervisor only)."""
    parent = _supervisor if _supervisor is not None else os.getppid()

    def watch() -> None:
        while not stop.wait(PARENT_CHECK_SECONDS):
            if os.getppid() != parent:
                stop.set()

    threading.Thread(target=watch, name="pyml-parent-watch", daemon=True).start()


def _report(index: int, pid: int, code: int) -> None:
    how = f"signal {-code}" if code < 0 else f"code {code}"
    print(
        f"pyml-runtime: worker {index} (pid {pid}) ended with {how}; stopping the others",
        file=sys.stderr,
        flush=True,
    )


def _exit_code(code: int) -> int:
    if code < 0:
        return 128 - code  # as a shell reports a process ended by a signal
    return code if code > 0 else 1


def _stop_all(pids: list[int]) -> None:
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while pids and time.monotonic() < deadline:
        pids = [pid for pid in pids if os.waitpid(pid, os.WNOHANG) == (0, 0)]
        time.sleep(POLL_SECONDS)
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


@contextmanager
def signals_set(stop: threading.Event) -> Iterator[None]:
    """SIGTERM/SIGINT set `stop` (only the main thread may install handlers).

    Through a thread: Python runs a handler in the main thread between two bytecodes, maybe
    inside `stop.wait()` while that holds the Event's lock, and `stop.set()` there would wait
    for ever (a runtime that let SIGTERM go unanswered until it was killed). A SimpleQueue's
    `put` is safe in a signal handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals: queue.SimpleQueue[int | None] = queue.SimpleQueue()

    def set_stop() -> None:
        if signals.get() is not None:
            stop.set()

    def handler(signum: int, frame: FrameType | None) -> None:
        signals.put(signum)

    setter = threading.Thread(target=set_stop, name="pyml-signals", daemon=True)
    setter.start()
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        signals.put(None)  # ends the setter when no signal did
