"""The gateway hop for large payloads: gateway -> runtime against straight at the runtime.

    .venv/bin/python bench/large_payload_hop.py [--rows 100000] [--repeats 15] [--in-flight 8]
        [--model breast_cancer_lr|softmax_tensor]

The breast cancer example (after `make examples`), one pre-encoded request of `--rows` rows
(100,000 rows: a ~24 MB message, a ~2 MB answer); or the softmax tensor example, whose
answer is 3/4 of its request (`--rows 1500000`: 24 MB in, 18 MB out). Calls, in turns:
`pyml.Client.predict_raw` through a real gateway (java -jar, the home as a process runtime)
and `Predict` straight on that runtime's Unix socket. The hop is the difference of the
medians; the gateway's and the runtime workers' CPU time per call. Then `--in-flight` such
calls at once through the gateway, with the RSS of the gateway and of each runtime worker
before and their peak (VmHWM, reset just before) after. Every loop is bounded in count and
time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import numpy as np
import pandas as pd

import pyml
from pyml._internal.gateway_process import GatewayProcess, start_gateway
from pyml.v1 import payload_pb2, runtime_pb2_grpc
from pyml_runtime import codec

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / "examples" / "breast_cancer_lr"
KINDS = {"breast_cancer_lr": "dataframe", "softmax_tensor": "tensors"}
RUNTIME_BIN = Path(sys.executable).with_name("pyml-runtime")
TIME_CAP_S = 120.0
UNLIMITED = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]


def frame(rows: int) -> pd.DataFrame:
    data = pd.read_parquet(HOME / "validation" / "input.parquet")
    return data.sample(rows, replace=True, random_state=0).reset_index(drop=True)


def request_bytes(model: str, rows: int) -> bytes:
    if model == "softmax_tensor":
        x = np.random.default_rng(0).normal(size=(rows, 4)).astype(np.float32)
        return codec.encode_tensors({"x": x})
    return codec.encode_dataframe(frame(rows))


def runtime_processes(gateway_pid: int) -> dict[int, Path]:
    """The runtime processes the gateway started (its descendants): pid -> the --socket given."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            if b"serve" in args and b"--socket" in args and _descends(int(proc.name), gateway_pid):
                found[int(proc.name)] = Path(args[args.index(b"--socket") + 1].decode())
        except (OSError, ValueError, IndexError):
            continue
    if not found:
        raise RuntimeError("no runtime process of the gateway found")
    return found


def runtime_socket(gateway_pid: int) -> Path:
    """The Unix socket of the runtime process the gateway started (worker 0's)."""
    return next(iter(runtime_processes(gateway_pid).values()))


def _descends(pid: int, ancestor: int) -> bool:
    for _ in range(10):  # a few wrappers at most (prlimit, setpriv exec in place)
        if pid == ancestor:
            return True
        if pid <= 1:
            return False
        stat = Path(f"/proc/{pid}/stat").read_text()
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return False


def status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {key}")


def cpu_ms(pid: int) -> float:
    """The process's CPU time (user + system) so far, in ms."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def cpu_per_call(pids: list[int], call: Callable[[], object], calls: int) -> float:
    """The processes' CPU time per call: robust where the wall clock counts other processes."""
    before = sum(cpu_ms(pid) for pid in pids)
    for _ in range(calls):
        call()
    return (sum(cpu_ms(pid) for pid in pids) - before) / calls


def reset_peak(pid: int) -> None:
    """VmHWM starts again from the current RSS (Linux: clear_refs 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def memory_line(label: str, pid: int, before: float) -> str:
    peak = status_kib(pid, "VmHWM") / 1024
    return f"{label} RSS {before:.0f} MiB before, peak {peak:.0f} MiB"


def timed(calls: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    for call in calls.values():  # warm-up: JIT, caches, flow-control windows
        for _ in range(3):
            call()
    samples: dict[str, list[float]] = {label: [] for label in calls}
    deadline = time.monotonic() + TIME_CAP_S
    for _ in range(repeats):
        if time.monotonic() > deadline:
            break
        for label, call in calls.items():
            started = time.perf_counter()
            call()
            samples[label].append((time.perf_counter() - started) * 1000)
    return samples


def in_flight(
    gateway: GatewayProcess, client: pyml.Client, model: str, data: bytes, count: int
) -> None:
    pids = [gateway.process.pid, *runtime_processes(gateway.process.pid)]
    before = {pid: status_kib(pid, "VmRSS") / 1024 for pid in pids}
    for pid in pids:
        reset_peak(pid)
    errors: list[Exception] = []

    def call() -> None:
        try:
            client.predict_raw(model, KINDS[model], data, timeout=120)
        except Exception as exc:  # counted and shown
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    elapsed = time.perf_counter() - started
    print(f"\n{count} calls in flight: {elapsed:.2f} s, {len(errors)} failed")
    print("  " + memory_line("gateway", pids[0], before[pids[0]]))
    for index, pid in enumerate(pids[1:]):
        print("  " + memory_line(f"runtime process {index}", pid, before[pid]))
    for error in errors[:3]:
        print(f"  {error}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--model", choices=sorted(KINDS), default="breast_cancer_lr")
    args = parser.parse_args()
    model, kind = args.model, KINDS[args.model]
    home = ROOT / "examples" / model
    data = request_bytes(model, args.rows)
    print(f"{model}, {args.rows:,} rows: {len(data) / 1e6:.1f} MB of Arrow IPC")
    gateway = start_gateway(home_deploy_roots=[home.parent], gateway_id=f"hop-bench-{os.getpid()}")
    try:
        with pyml.Client(gateway.target, timeout=120) as client:
            client.deploy(home)
            socket = runtime_socket(gateway.process.pid)
            channel = grpc.insecure_channel(f"unix:{socket}", options=UNLIMITED)
            stub = runtime_pb2_grpc.ModelRuntimeStub(channel)
            request = payload_pb2.Payload(
                kind=payload_pb2.PayloadKind.Value(f"PAYLOAD_KIND_{kind.upper()}"), arrow_ipc=data
            )
            straight = stub.Predict(request, timeout=120, wait_for_ready=True).arrow_ipc
            through = client.predict_raw(model, kind, data).payload.arrow_ipc
            assert straight == through, "the gateway's answer differs from the runtime's"
            print(f"  the answer: {len(through) / 1e6:.1f} MB of Arrow IPC")
            samples = timed(
                {
                    "through the gateway": lambda: client.predict_raw(model, kind, data),
                    "straight at the runtime's socket": lambda: stub.Predict(request, timeout=120),
                },
                args.repeats,
            )
            print(f"  {'path':<34} {'median ms':>10} {'min':>8} {'max':>8}")
            medians = {}
            for label, values in samples.items():
                medians[label] = statistics.median(values)
                print(
                    f"  {label:<34} {medians[label]:10.1f} {min(values):8.1f} {max(values):8.1f}"
                    f"  (n={len(values)})"
                )
            hop = medians["through the gateway"] - medians["straight at the runtime's socket"]
            print(f"  the gateway hop (difference of medians): {hop:.1f} ms")
            through_gateway = lambda: client.predict_raw(model, kind, data)  # noqa: E731
            cpu = cpu_per_call([gateway.process.pid], through_gateway, args.repeats)
            print(f"  the gateway's CPU time per call: {cpu:.1f} ms")
            runtimes = list(runtime_processes(gateway.process.pid))
            straight_call = lambda: stub.Predict(request, timeout=120)  # noqa: E731
            cpu = cpu_per_call(runtimes, straight_call, args.repeats)
            print(f"  the runtime's CPU time per call (straight at its socket): {cpu:.1f} ms")
            channel.close()
            in_flight(gateway, client, model, data, args.in_flight)
    finally:
        gateway.stop()


if __name__ == "__main__":
    main()
