"""`pyml-runtime serve --workers N`: N runtime workers, one socket each, under a supervisor
that stops them all on SIGTERM and ends (non-zero) as soon as one of them dies."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pyml_runtime.workers import worker_count, worker_socket
from tests.runtime.runtime_process import Runtime, running

SERVING = health_pb2.HealthCheckResponse.SERVING


@pytest.fixture
def socket_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("s") / "run"  # short: sun_path holds 107 bytes


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


def _serving(socket: Path) -> bool:
    if not socket.exists():
        return False
    with grpc.insecure_channel(f"unix:{socket}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=2
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == SERVING)


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
    while not all(_serving(s) for s in sockets):
        assert runtime.process.poll() is None, runtime.stderr()
        assert time.monotonic() < deadline, "not every worker serves after 30 s"
        time.sleep(0.05)
    assert runtime.process.stdout is not None
    lines = _lines(runtime.process.stdout, len(sockets), within=30, why=runtime.stderr)
    found = (re.search(r"\(worker (\d+), pid (\d+)\)", line) for line in lines)
    return {int(m.group(1)): int(m.group(2)) for m in found if m}


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
