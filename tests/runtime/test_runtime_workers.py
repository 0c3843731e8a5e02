"""`pyml-runtime serve --workers N`: N runtime workers, one socket each, under a supervisor
that stops them all on SIGTERM and ends (non-zero) as soon as one of them dies."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import grpc
import pandas as pd
import pytest
from grpc_health.v1 import health_pb2

from pyml.v1 import payload_pb2, runtime_pb2_grpc
from pyml_runtime import codec
from pyml_runtime.server import announce_serving
from pyml_runtime.workers import (
    NATIVE_THREADS_ENV,
    cpu_limit,
    limit_native_threads,
    native_threads,
    run_on,
    worker_count,
    worker_cpus,
    worker_socket,
)
from tests.runtime.runtime_homes import save_validation
from tests.runtime.runtime_process import Runtime, answers_serving, running

SERVING = health_pb2.HealthCheckResponse.SERVING


def test_worker_sockets_are_named_beside_the_first() -> None:
    base = Path("/run/pyml/model.sock")
    assert worker_socket(base, 0) == base
    assert worker_socket(base, 1) == Path("/run/pyml/model-1.sock")
    assert worker_socket(base, 12) == Path("/run/pyml/model-12.sock")


def test_worker_count_from_the_option_or_the_environment() -> None:
    assert worker_count(None, {}) == 1
    assert worker_count(None, {"PYML_RUNTIME_WORKERS": "3"}) == 3
    assert worker_count(2, {"PYML_RUNTIME_WORKERS": "3"}) == 2
    with pytest.raises(ValueError, match="PYML_RUNTIME_WORKERS='zero'"):
        worker_count(None, {"PYML_RUNTIME_WORKERS": "zero"})
    with pytest.raises(ValueError, match="expected: 1 to 32"):
        worker_count(33, {})


def test_each_worker_sizes_its_native_thread_pools_to_its_share_of_the_cpus(
    tmp_path: Path,
) -> None:
    # OpenBLAS threads spin after each call: two workers with a pool as wide as the machine
    # each spent a third of two cores spinning.
    assert [native_threads(2, 2.0), native_threads(3, 2.0), native_threads(2, 7.0)] == [1, 1, 3]
    assert native_threads(1, 8.0) == 8
    two_cpus = tmp_path / "cpu.max"
    two_cpus.write_text("200000 100000\n")
    environ: dict[str, str] = {}
    limit_native_threads(2, environ, two_cpus)
    assert environ == dict.fromkeys(NATIVE_THREADS_ENV, "1")


def test_a_model_images_own_thread_pool_size_is_kept(tmp_path: Path) -> None:
    environ = {"OMP_NUM_THREADS": "4"}
    limit_native_threads(2, environ, tmp_path / "absent")
    assert environ == {"OMP_NUM_THREADS": "4"}


def _cpus(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, allowed: set[int], quota: float) -> Path:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: allowed)
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text(f"{int(quota * 100000)} 100000\n")
    return cpu_max


def test_each_worker_runs_on_cpus_of_its_own_from_the_launchers_offset(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """grpcio's hand-over of every call between its threads crossed cores: measured with the
    example behind the gateway, 1 row, c=8: 478 calls/s unpinned, 579 pinned (in turns)."""
    two = _cpus(monkeypatch, tmp_path, {0, 1}, 2.0)
    offset = {"PYML_RUNTIME_CPU_OFFSET": "0"}
    assert worker_cpus(2, offset, two) == [{0}, {1}]
    # The gateway's next runtime starts further on: its first worker takes the next CPU.
    assert worker_cpus(2, {"PYML_RUNTIME_CPU_OFFSET": "3"}, two) == [{1}, {0}]
    assert worker_cpus(3, offset, two) == [{0}, {1}, {0}]
    # One worker given one of two CPUs (--cpus 1): one CPU, not two half-used ones.
    assert worker_cpus(
        1, {"PYML_RUNTIME_CPU_OFFSET": "1"}, _cpus(monkeypatch, tmp_path, {0, 1}, 1.0)
    ) == [{1}]
    # A share of two CPUs each, counted in the CPUs it may run on, whatever their numbers.
    four = _cpus(monkeypatch, tmp_path, {2, 3, 6, 7}, 4.0)
    assert worker_cpus(2, offset, four) == [{2, 3}, {6, 7}]


def test_workers_are_not_pinned_unless_asked_or_when_the_model_sizes_its_threads(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    two = _cpus(monkeypatch, tmp_path, {0, 1}, 2.0)
    assert worker_cpus(2, {}, two) is None  # `pyml-runtime serve` run by hand
    asked = {"PYML_RUNTIME_CPU_OFFSET": "0"}
    assert worker_cpus(2, {**asked, "OMP_NUM_THREADS": "4"}, two) is None
    assert worker_cpus(1, asked, two) is None  # its share is every CPU
    with pytest.raises(ValueError, match="PYML_RUNTIME_CPU_OFFSET='first' \\(expected: a whole"):
        worker_cpus(2, {"PYML_RUNTIME_CPU_OFFSET": "first"}, two)


def test_a_kernel_that_refuses_the_pinning_leaves_the_worker_serving_where_it_was(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(pid: int, cpus: set[int]) -> None:
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(os, "sched_setaffinity", refuse)
    run_on({3})
    assert (
        capsys.readouterr().err
        == "pyml-runtime: not pinned to CPUs [3]: [Errno 22] Invalid argument\n"
    )


def test_the_cpu_limit_is_the_cgroup_quota_at_most_the_cpus_to_run_on(tmp_path: Path) -> None:
    cpu_max = tmp_path / "cpu.max"
    cpus = len(os.sched_getaffinity(0))
    cpu_max.write_text("50000 100000\n")
    assert cpu_limit(cpu_max) == 0.5
    cpu_max.write_text(f"{(cpus + 4) * 100000} 100000\n")
    assert cpu_limit(cpu_max) == cpus
    cpu_max.write_text("max 100000\n")
    assert cpu_limit(cpu_max) == cpus
    assert cpu_limit(tmp_path / "absent") == cpus


# Holds the stop Event's lock, as `stop.wait()` does for a moment, while SIGTERM arrives:
# Python runs the handler right there, in this (the main) thread.
SIGNAL_INSIDE_WAIT = """
import os, signal, threading
from pyml_runtime.workers import signals_set
stop = threading.Event()
with signals_set(stop):
    with stop._cond:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(100_000):
            pass
    print("stopped" if stop.wait(10) else "not stopped", flush=True)
"""


def test_a_signal_that_lands_inside_stop_wait_still_stops() -> None:
    # A handler that called stop.set() waited for ever there for the lock its own thread held:
    # a runtime that let SIGTERM go unanswered until killed (seen once in CI, SIGINT).
    try:
        done = subprocess.run(
            [sys.executable, "-c", SIGNAL_INSIDE_WAIT], capture_output=True, text=True, timeout=30
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the signal handler deadlocked on the stop Event's lock")
    assert (done.returncode, done.stdout.strip()) == (0, "stopped"), done.stderr


def _lines(stream: IO[str], count: int, within: float, why: Callable[[], str]) -> list[str]:
    """`count` lines of a child's output, waiting at most `within` s for them in all (read in a
    thread: a buffered text stream cannot be polled line by line)."""
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(stream.readline() for _ in range(count)), daemon=True
    )
    reader.start()
    reader.join(within)
    assert not reader.is_alive(), f"not {count} serving lines after {within:g} s: {why()}"
    return lines


def _worker_pids(runtime: Runtime, sockets: list[Path]) -> dict[int, int]:
    """Waits until every worker serves; its log lines give worker index -> pid."""
    runtime.wait_for(SERVING)  # worker 0, through the fixture's channel (bounded: 30 s)
    deadline = time.monotonic() + 30
    while not all(answers_serving(s) for s in sockets):
        assert runtime.process.poll() is None, runtime.stderr()
        assert time.monotonic() < deadline, "not every worker serves after 30 s"
        time.sleep(0.05)
    assert runtime.process.stdout is not None
    lines = _lines(runtime.process.stdout, len(sockets), within=30, why=runtime.stderr)
    found = (re.search(r"\(worker (\d+), pid (\d+)\)", line) for line in lines)
    return {int(m.group(1)): int(m.group(2)) for m in found if m}


def test_a_workers_serving_line_is_one_write_so_two_workers_lines_never_mix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found on CI (PYTHONUNBUFFERED=1): print() wrote each worker's line and its newline
    apart, and the two workers' lines reached the pipe as one line and an empty one."""
    writes: list[str] = []

    class Stdout:
        def write(self, text: str) -> int:
            writes.append(text)
            return len(text)

        def flush(self) -> None:
            pass

    monkeypatch.setattr(sys, "stdout", Stdout())
    announce_serving("scorer", Path("/run/pyml/model-1.sock"), 1)
    line = f"pyml-runtime serving scorer on /run/pyml/model-1.sock (worker 1, pid {os.getpid()})\n"
    assert writes == [line]


def test_two_workers_serve_on_two_sockets_and_sigterm_stops_both(
    scorer_home: Path, socket_dir: Path
) -> None:
    socket = socket_dir / "model.sock"
    sockets = [socket, socket_dir / "model-1.sock"]
    with running(scorer_home, socket, "--workers", "2") as runtime:
        pids = _worker_pids(runtime, sockets)
        assert sorted(pids) == [0, 1]
        assert len(set(pids.values()) | {runtime.process.pid}) == 3, "three processes"
        assert runtime.stop() == 0
        for pid in pids.values():
            assert not _alive(pid)
    assert not any(s.exists() for s in sockets)


# Answers the size of its process's OpenBLAS pools, as OpenBLAS itself reports it.
POOL_MODEL = """
    import pandas as pd
    from threadpoolctl import threadpool_info

    from pyml import DataFrameModel


    class Pool(DataFrameModel):
        def __init__(self, home: str) -> None:
            pass

        def predict(self, df: pd.DataFrame) -> pd.DataFrame:
            # numpy's OpenBLAS, and scipy's once it is loaded: the widest.
            pools = threadpool_info()
            size = max(p["num_threads"] for p in pools if p["internal_api"] == "openblas")
            return pd.DataFrame({"threads": [size] * len(df)})
"""


def test_each_workers_openblas_pool_and_the_cpus_it_runs_on_are_its_share(
    make_home: Callable[..., Path], socket_dir: Path
) -> None:
    home = make_home("pool", **{"model.py": POOL_MODEL})
    save_validation(home, pd.DataFrame({"x": [1.0]}))
    sockets = [socket_dir / "model.sock", socket_dir / "model-1.sock"]
    request = payload_pb2.Payload(
        kind=payload_pb2.PAYLOAD_KIND_DATAFRAME,
        arrow_ipc=codec.encode_dataframe(pd.DataFrame({"x": [1.0]})),
    )
    asked = {"PYML_RUNTIME_CPU_OFFSET": "1"}  # as the gateway asks
    with running(home, sockets[0], "--workers", "2", env=asked) as runtime:
        pids = _worker_pids(runtime, sockets)
        pinned = worker_cpus(2, {**os.environ, **asked})
        every = os.sched_getaffinity(0)
        assert [os.sched_getaffinity(pids[i]) for i in range(2)] == (pinned or [every, every])
        assert os.sched_getaffinity(runtime.process.pid) == every  # the supervisor is not pinned
        for socket in sockets:
            with grpc.insecure_channel(f"unix:{socket}") as channel:
                reply = runtime_pb2_grpc.ModelRuntimeStub(channel).Predict(request, timeout=10)
            threads = codec.decode_dataframe(reply.arrow_ipc)["threads"].tolist()
            assert threads == [native_threads(2, cpu_limit())], socket.name


def test_a_worker_killed_ends_the_runtime_with_its_signal(
    scorer_home: Path, socket_dir: Path
) -> None:
    socket = socket_dir / "model.sock"
    sockets = [socket, socket_dir / "model-1.sock"]
    with running(scorer_home, socket, env={"PYML_RUNTIME_WORKERS": "2"}) as runtime:
        pids = _worker_pids(runtime, sockets)
        os.kill(pids[1], signal.SIGKILL)
        assert runtime.process.wait(timeout=30) == 128 + signal.SIGKILL
        assert "worker 1" in runtime.stderr()
        assert not _alive(pids[0]), "the other worker is stopped with the supervisor"
    assert not socket.exists()


def test_a_worker_that_cannot_load_ends_the_runtime_with_its_error(
    make_home: object, socket_dir: Path
) -> None:
    home = make_home("broken", **{"model.py": "import not_installed_anywhere\n"})  # type: ignore[operator]
    with running(home, socket_dir / "model.sock", "--workers", "2") as runtime:
        assert runtime.process.wait(timeout=60) == 1
        assert "module 'not_installed_anywhere'" in runtime.stderr()


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie counts as ended: its parent has not reaped it yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False
