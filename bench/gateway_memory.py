"""Gateway memory before, during and after the stalled-message attack of issue 12 (finding 7).

Eight gRPC streams each send 60 of a 63 MiB message and stop, three rounds; between rounds
and after, the gateway's RSS. Two baselines: right after start, and after a warm-up of normal
traffic (a 1-row and a 10 MiB predict, repeated), since the first calls of each path load and
compile code that stays. Real gateway (java -jar with the SDK's JVM flags), default payload
limit, the example model as a process (development mode). Bounded: three rounds, each ending
at the gateway's request-read timeout.

    .venv/bin/python bench/gateway_memory.py [--read-timeout-ms 5000] [--wait 60]
"""

from __future__ import annotations

import argparse
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sklearn.datasets import load_breast_cancer

import pyml
from pyml._internal.gateway_process import GatewayProcess, start_gateway

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from tests.security.raw_http2 import RawHttp2  # noqa: E402 - the repo root first

EXAMPLES = REPO / "examples"
MESSAGE = 63 * 1024 * 1024
SENT = 60 * 1024 * 1024
STREAMS = 8
ROUNDS = 3


def rss_mib(gateway: GatewayProcess) -> float:
    for line in Path(f"/proc/{gateway.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def stall(port: int, read_timeout: float) -> None:
    """One round: STREAMS streams send SENT bytes of a MESSAGE-byte request and stop."""
    body = struct.pack(">BI", 0, MESSAGE) + b"\x00" * SENT
    h2c = RawHttp2(port)
    streams = [h2c.start_predict() for _ in range(STREAMS)]
    sent = dict.fromkeys(streams, 0)
    deadline = time.monotonic() + read_timeout + 10
    while time.monotonic() < deadline and not h2c.ended_streams() >= set(streams):
        for stream in streams:
            if sent[stream] < len(body) and stream not in h2c.ended_streams():
                sent[stream] += h2c.send_some(stream, body[sent[stream] :])
        h2c.receive(0.05)
        if h2c.terminated():
            break
    h2c.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--read-timeout-ms", type=int, default=5000)
    parser.add_argument("--wait", type=float, default=60.0, help="seconds watched after")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="pyml-bench-mem-")) / "breast_cancer_lr"
    shutil.copytree(
        EXAMPLES / "breast_cancer_lr", home, ignore=shutil.ignore_patterns("validation", "*.joblib")
    )
    subprocess.run(
        [sys.executable, str(EXAMPLES / "train_breast_cancer.py"), str(home)], check=True
    )
    data = load_breast_cancer(as_frame=True).data
    big = data.sample(40_000, replace=True, random_state=0).reset_index(drop=True)  # ~10 MiB
    gateway = start_gateway(
        ["--request-read-timeout-ms", str(args.read_timeout_ms)],
        home_deploy_roots=[home.parent],
        gateway_id="pyml-bench-memory",
    )
    try:
        started = rss_mib(gateway)
        with pyml.Client(gateway.target, timeout=60) as client:
            client.deploy(home)
            for _ in range(20):
                client.predict("breast_cancer_lr", data.head(1))
                client.predict("breast_cancer_lr", big)
            time.sleep(10)  # the periodic GC's interval is 5 s
            warm = rss_mib(gateway)
            print(f"RSS at start {started:.0f} MiB, after warm-up {warm:.0f} MiB")
            for round_ in range(1, ROUNDS + 1):
                began = time.monotonic()
                stall(gateway.grpc_port, args.read_timeout_ms / 1000)
                print(
                    f"round {round_}: {STREAMS} x {SENT >> 20} of {MESSAGE >> 20} MiB stalled, "
                    f"ended after {time.monotonic() - began:.1f} s, RSS {rss_mib(gateway):.0f} MiB"
                )
            client.predict("breast_cancer_lr", data.head(1))  # still serving
            watched = 0.0
            for mark in (10, 30, args.wait):
                time.sleep(max(0.0, mark - watched))
                watched = mark
                now = rss_mib(gateway)
                print(f"{mark:>4.0f} s after: RSS {now:.0f} MiB ({now - warm:+.0f} vs warm-up)")
    finally:
        gateway.stop()
        shutil.rmtree(home.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
