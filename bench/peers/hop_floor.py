"""The least PyML's design takes per call before any model work: a call through a gRPC hop in
grpc-java (the gateway's library) to a Python gRPC server on a Unix socket (the runtime's), with
nothing done at either end: `HopProxy.java` forwards the bytes, python_grpc's server answers
with an empty message.

h2load sends PyML's 1-row request, after a warm-up as long as the cells' at 1 row (the JVM's
compiler needs tens of thousands of calls): the p50 at c=1, and the CPU a call takes at c=8 on
this machine (the proxy's JVM, the Python server and h2load itself, which shares the cores with
the servers in every cell). Each of the two Python servers (grpcio sync, as PyML's runtime, and
asyncio) is measured; the lower figures are the floor. Bounded in calls and in time.
"""

from __future__ import annotations

import resource
import select
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.large_payload_hop import cpu_ms
from bench.peers.frames import PYML_PREDICT_PATH
from bench.peers.h2load import run_h2load
from bench.peers.python_grpc import (
    EMPTY_ANSWER_BYTES,
    RUN_CAP_S,
    SERVERS,
    lowest_p50,
    serving_at,
)

HOP_PROXY = Path(__file__).with_name("HopProxy.java")
START_S = 60.0
WARM_UP_CALLS = 20_000
CPU_CALLS = 10_000
CPU_STREAMS = 8


@contextmanager
def hop_proxy(jar: Path, socket: Path) -> Iterator[tuple[int, int]]:
    """HopProxy in a JVM of its own, forwarding to `socket`, for the block; yields its loopback
    port and its process id."""
    process = subprocess.Popen(
        ["java", "-cp", str(jar), str(HOP_PROXY), str(socket)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_S)
        line = process.stdout.readline() if ready else ""
        if not line.strip().isdigit():
            raise RuntimeError(f"HopProxy did not start in {START_S:g} s (it printed {line!r})")
        yield int(line), process.pid
    finally:
        if process.stdin:
            process.stdin.close()  # its signal to stop
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def hop_floor(frame: Path, jar: Path, calls: int = 1000, runs: int = 3) -> dict[str, Any]:
    """For each Python server: the lowest p50 (ms) at c=1 over `runs` runs of `calls` calls
    through the hop, and the CPU ms a call takes at c=8, by part; then the floor, the lower of
    each: `{"sync": {...}, "asyncio": {...}, "p50_ms": .., "cpu_ms": .., "cpu_parts": {...}}`."""
    figures: dict[str, Any] = {}
    for name in SERVERS:
        with tempfile.TemporaryDirectory(prefix="pyml-hop-") as folder:
            socket = Path(folder) / "runtime.sock"
            with (
                serving_at(name, f"unix:{socket}") as (_, server_pid),
                hop_proxy(jar, socket) as (port, proxy_pid),
            ):
                figures[name] = _measure(
                    f"http://127.0.0.1:{port}{PYML_PREDICT_PATH}",
                    frame,
                    {"proxy": proxy_pid, "server": server_pid},
                    calls,
                    runs,
                )
    points = [point for point in figures.values() if isinstance(point, dict)]
    cheapest = min(points, key=lambda point: sum(point["cpu_ms"].values()))
    figures["p50_ms"] = min(float(point["p50_ms"]) for point in points)
    figures["cpu_ms"] = sum(cheapest["cpu_ms"].values())
    figures["cpu_parts"] = cheapest["cpu_ms"]
    return figures


def cheaper(first: dict[str, Any], last: dict[str, Any]) -> dict[str, Any]:
    """Of two readings (the run's start and end), the lower p50 and the lower CPU a call: the
    floor that puts fewer goals out of reach."""
    quick = min(first, last, key=lambda point: float(point["p50_ms"]))
    frugal = min(first, last, key=lambda point: float(point["cpu_ms"]))
    return {
        "p50_ms": quick["p50_ms"],
        "cpu_ms": frugal["cpu_ms"],
        "cpu_parts": frugal["cpu_parts"],
        "readings": [first, last],
    }


def _measure(
    url: str, frame: Path, pids: dict[str, int], calls: int, runs: int
) -> dict[str, object]:
    who = "the hop floor's servers"
    run_h2load(url, frame, EMPTY_ANSWER_BYTES, WARM_UP_CALLS, CPU_STREAMS, RUN_CAP_S * 5)
    p50 = lowest_p50(url, frame, calls, runs, who)
    before = {part: cpu_ms(pid) for part, pid in pids.items()}
    before["h2load"] = _children_cpu_ms()
    result = run_h2load(url, frame, EMPTY_ANSWER_BYTES, CPU_CALLS, CPU_STREAMS, RUN_CAP_S)
    if result.ok != CPU_CALLS:
        raise RuntimeError(f"{who} failed {result.failed} of {CPU_CALLS} calls")
    after = {part: cpu_ms(pid) for part, pid in pids.items()}
    after["h2load"] = _children_cpu_ms()
    return {
        "p50_ms": p50,
        "cpu_ms": {part: (after[part] - before[part]) / CPU_CALLS for part in before},
    }


def _children_cpu_ms() -> float:
    """CPU ms of this process's ended children (h2load, once each run returns)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return 1000 * (usage.ru_utime + usage.ru_stime)
