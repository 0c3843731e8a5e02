"""h2load runs on one gRPC method: one connection, `streams` requests in flight, bounded by a
request count and a time cap; p50 from h2load's per-request log.

h2load counts a gRPC error as HTTP 200 (the status travels in the trailers), so the successful
calls are counted from the response bytes instead: every successful answer to the same request
has the same size (measured by the probe), an error has none.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

_DONE = re.compile(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded")
_FINISHED = re.compile(r"finished in ([\d.]+)(m?s)")
_DATA = re.compile(r"\((\d+)\) data")


@dataclass(frozen=True)
class H2loadResult:
    requests: int  # asked for
    done: int
    ok: int  # answers of the expected size (gRPC OK)
    failed: int  # done or not, everything that is not an OK answer
    seconds: float
    p50_ms: float
    timed_out: bool

    @property
    def ok_per_s(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ok_per_s": self.ok_per_s}


def ensure_h2load() -> str:
    """The h2load binary; installs Debian's nghttp2-client when it is missing."""
    found = shutil.which("h2load")
    if found is None:
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "nghttp2-client"], check=True, timeout=600
        )
        found = shutil.which("h2load")
    if found is None:
        raise RuntimeError("h2load not found after installing nghttp2-client")
    return found


def run_h2load(
    url: str,
    frame: Path,
    answer_bytes: int,
    requests: int,
    streams: int,
    time_cap_s: float,
) -> H2loadResult:
    """`requests` calls of the frame at `url` with `streams` in flight on one connection."""
    log = Path(tempfile.mkdtemp(prefix="pyml-h2load-")) / "requests.tsv"
    command = [
        ensure_h2load(),
        "-n", str(requests),
        "-c", "1",
        "-m", str(streams),
        "-d", str(frame),
        "-H", "content-type: application/grpc",
        "-H", "te: trailers",
        f"--log-file={log}",
        url,
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=time_cap_s)
    except subprocess.TimeoutExpired:  # the run is lost: count every request as failed
        shutil.rmtree(log.parent, ignore_errors=True)
        return H2loadResult(requests, 0, 0, requests, time_cap_s, float("nan"), True)
    try:
        return _parse(done.stdout, log, requests, answer_bytes)
    finally:
        shutil.rmtree(log.parent, ignore_errors=True)


def _parse(stdout: str, log: Path, requests: int, answer_bytes: int) -> H2loadResult:
    counts = _DONE.search(stdout)
    finished = _FINISHED.search(stdout)
    data = _DATA.search(stdout)
    if counts is None or finished is None or data is None:
        raise RuntimeError(f"unexpected h2load output:\n{stdout}")
    done = int(counts.group(3))
    seconds = float(finished.group(1)) / (1000 if finished.group(2) == "ms" else 1)
    ok = min(done, int(data.group(1)) // answer_bytes)
    return H2loadResult(requests, done, ok, requests - ok, seconds, _p50_ms(log), False)


def _p50_ms(log: Path) -> float:
    """Median of h2load's per-request times (third column, microseconds)."""
    if not log.exists():
        return float("nan")
    micros = [int(line.split("\t")[2]) for line in log.read_text().splitlines() if line]
    return statistics.median(micros) / 1000 if micros else float("nan")
