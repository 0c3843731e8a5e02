"""`python -m bench.peers`: MLServer, then PyML, then the in-process floor, in one run."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer

from bench.peers import perf, report
from bench.peers.floor import floor, model_after_wait, model_floor, socket_hops
from bench.peers.frames import (
    PYML_PREDICT_PATH,
    V2_INFER_PATH,
    grpc_frame,
    pyml_oip_request,
    pyml_predict_request,
    v2_infer_request,
)
from bench.peers.goals import MODEL_FLOOR
from bench.peers.h2load import H2loadResult, ensure_h2load, run_h2load
from bench.peers.hop_floor import cheaper, hop_floor
from bench.peers.probe import Probe, call_raw, probe_pyml, probe_pyml_oip, probe_v2
from bench.peers.python_grpc import empty_answer_p50
from bench.peers.servers import PymlServer, mlserver, pyml_server
from pyml._internal.gateway_process import gateway_jar

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "breast_cancer_lr"
NAME = "breast_cancer_lr"
# Requests of the warm-up (and rate estimate) per row count, the same for every server. The
# gateway's JVM needs tens of thousands of calls on 2 cores before its C2 compiler is done: perf
# put C2 at 50% of the gateway's CPU after 4,000 1-row calls and 16% after 24,000; with batching
# (rounds of 5,000 calls at c=8, 6 December) the gateway's CPU per call fell from 1.4 ms to
# 0.18 ms only after ~70,000 calls, and PyML's rate rose from 711 to ~2,000 req/s with it, while
# MLServer's stays flat. So the first row count's warm-up is long: the cells measure servers
# in their steady state, as a team's traffic meets them.
WARM_UP = {1: 80_000, 1000: 2_000, 100_000: 24}
# The warm-up's time cap; a warm-up that reaches it is followed by a shorter run for the rate.
WARM_UP_CAP_S = 300.0
RATE_CALLS = {1: 4_000, 1000: 400, 100_000: 8}
# PyML as the example is (off), and with the model opted in to adaptive batching (on).
VARIANTS: dict[str, list[tuple[str, list[str]]]] = {
    "off": [("PyML", [])],
    "on": [("PyML batching", ["batching = true"])],
    "both": [("PyML", []), ("PyML batching", ["batching = true"])],
}
# pyml.Client.predict's p50 at c=1: so many calls at most, within so many seconds, in turns
# with h2load's (five: a slow minute of a shared machine then falls on both, not on one side),
# after a warm-up of the client's own.
CLIENT_CALLS = 1000
CLIENT_TURNS = 5
CLIENT_WARM_UP = 200
# MLServer and PyML in turns on 1 row: calls per turn at each concurrency, and turns per server.
TURN_CALLS = {1: 1_000, 8: 5_000}
TURNS = 3
CLIENT_SECONDS = 15.0


@dataclass
class Plan:
    rows: list[int]
    concurrency: list[int]
    cell_s: float  # the target length of one h2load cell
    spread: set[tuple[int, int]]  # cells run `spread_runs` times
    spread_runs: int
    perf_rows: list[int]
    perf_requests: dict[int, int]
    floor_s: float


FULL = Plan(
    rows=[1, 1000, 100_000],
    concurrency=[1, 8, 32],
    cell_s=8.0,
    spread={(1, 8), (100_000, 8)},
    spread_runs=2,
    perf_rows=[1, 1000],
    perf_requests={1: 300, 1000: 60},
    floor_s=5.0,
)
QUICK = Plan(
    rows=[1, 100_000],
    concurrency=[1, 8],
    cell_s=4.0,
    spread=set(),
    spread_runs=1,
    perf_rows=[1],
    perf_requests={1: 200},
    floor_s=3.0,
)


@dataclass
class Cell:
    rows: int
    streams: int
    runs: list[dict[str, object]] = field(default_factory=list)


def main() -> None:
    args = parse_args()
    plan = QUICK if args.quick else FULL
    ensure_h2load()
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="pyml-bench-peers-"))
    workdir.chmod(0o711)  # a root gateway's runtime user (65534) passes through to its sockets
    try:
        home = make_home(workdir / "home", args.pyml_toml)
        data = tiled_rows([*plan.rows, 1, 100_000])
        model_file = home / "model.joblib"
        pipeline = joblib.load(model_file)
        expected = {n: pipeline.predict_proba(data[n]) for n in plan.rows}
        results: dict[str, object] = {"plan": plan_summary(plan, args)}
        print("the model's own predict and the socket hops, at the start", flush=True)
        first = design_floors(home, data, plan, workdir)
        # The machine's load before and after each part: a shared machine shows up here.
        load: dict[str, list[float]] = {"start": list(os.getloadavg())}
        results["load"] = load
        deploy = parse_pairs(args.deploy, "--deploy")
        if args.resources:
            deploy["resources"] = parse_pairs(args.resources, "--resources")
        variants: dict[str, dict[str, object]] = {}
        results["pyml"] = variants
        # MLServer stays up, idle, while PyML is measured: the turns at the end of each variant
        # run both on the same minutes of this machine.
        with mlserver(model_file, NAME, workdir) as peer:
            print(f"MLServer serving {NAME} on {peer.target}", flush=True)
            results["mlserver"] = measure_mlserver(
                peer.target, peer.grpc_port, plan, data, expected, workdir
            )
            load["after MLServer"] = list(os.getloadavg())
            for label, extra in VARIANTS[args.batching]:
                variant_dir = workdir / label.replace(" ", "-")
                variant_dir.mkdir(mode=0o711)
                variant_home = make_home(variant_dir, [*args.pyml_toml, *extra])
                with pyml_server(variant_home, variant_dir, deploy, args.gateway_arg) as server:
                    target = server.gateway.target
                    print(f"{label}: gateway on {target}, {NAME} deployed", flush=True)
                    variants[label] = measure_pyml(server, plan, data, expected, variant_dir)
                    variants[label]["batching"] = "batching = true" in [*args.pyml_toml, *extra]
                    variants[label]["peer_turns"] = peer_turns(
                        peer.target, server, data[1], expected[1], variant_dir
                    )
                load[f"after {label}"] = list(os.getloadavg())
        print("in-process floor: two processes calling predict_proba", flush=True)
        floors = {str(n): floor(model_file, data[n], plan.floor_s) for n in (1, 100_000)}
        floors["1 (numpy)"] = floor(model_file, data[1].to_numpy(), plan.floor_s)
        print("in-process floor: two processes calling the model's own predict", flush=True)
        last = design_floors(home, data, plan, workdir)
        # Measured at the start and at the end of the run (its speed drifts): the higher model
        # floor and the cheaper hops, the readings that call the fewest goals out of reach.
        floors[MODEL_FLOOR] = max(
            first[MODEL_FLOOR], last[MODEL_FLOOR], key=lambda point: point["calls_per_s"]
        )
        results["floor"] = floors
        results["hop_ms"] = {k: min(first["hops"][k], last["hops"][k]) for k in last["hops"]}
        # The faster of the two readings: the lower floor, as for the hops.
        results["python_grpc"] = min(
            first["python_grpc"], last["python_grpc"], key=lambda point: point["ms"]
        )
        results["model_after_wait"] = model_after_wait(
            home, data[1], results["python_grpc"]["ms"] / 1000
        )
        results["hop_floor"] = cheaper(first["hop_floor"], last["hop_floor"])
        results["model_after_hop_wait"] = model_after_wait(
            home, data[1], results["hop_floor"]["p50_ms"] / 1000
        )
        results["seconds"] = time.monotonic() - started
        report.write(results, REPO / "bench" / "peers" / "results")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def design_floors(
    home: Path, data: dict[int, pd.DataFrame], plan: Plan, workdir: Path
) -> dict[str, Any]:
    """The floors that may put a goal out of reach: the model's own predict, two processes
    (1 row), the 100,000-row request's two socket hops, a Python gRPC server's empty answer to
    the 1-row request at c=1, and the same through a grpc-java hop (PyML's design with nothing
    in it)."""
    large = len(pyml_predict_request(NAME, data[100_000]).SerializeToString())
    one_row = pyml_predict_request(NAME, data[1]).SerializeToString()
    return {
        MODEL_FLOOR: model_floor(home, data[1], plan.floor_s),
        "hops": socket_hops(large, workdir),
        "python_grpc": empty_answer_p50(write_frame(workdir, "python-grpc-1", one_row)),
        "hop_floor": hop_floor(write_frame(workdir, "hop-floor-1", one_row), gateway_jar()),
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a 2-3 minute subset")
    parser.add_argument(
        "--resources",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a deploy resource of the PyML container (cpus=2, memory=4g, ...); repeatable",
    )
    parser.add_argument(
        "--deploy",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a keyword argument of pyml.Client.deploy for PyML (replicas=2, ...); repeatable",
    )
    parser.add_argument(
        "--pyml-toml",
        action="append",
        default=[],
        metavar="LINE",
        help="a line appended to the bench model's pyml.toml (e.g. 'batching = true'); repeatable",
    )
    parser.add_argument(
        "--batching",
        choices=sorted(VARIANTS),
        default="both",
        help="PyML as the example is (off), opted in to adaptive batching (on), or both one "
        "after the other (default)",
    )
    parser.add_argument(
        "--gateway-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="an extra argument of the PyML gateway (e.g. --gateway-arg=--some-flag=3); repeatable",
    )
    return parser.parse_args()


def parse_pairs(pairs: list[str], flag: str) -> dict[str, object]:
    """KEY=VALUE pairs, numbers as numbers (resources=..., deploy keyword arguments)."""
    resources: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep:
            sys.exit(f"{flag} {pair!r}: expected KEY=VALUE")
        value: object = text
        for kind in (int, float):
            try:
                value = kind(text)
                break
            except ValueError:
                continue
        resources[key] = value
    return resources


def plan_summary(plan: Plan, args: argparse.Namespace) -> dict[str, object]:
    return {
        "quick": args.quick,
        "rows": plan.rows,
        "concurrency": plan.concurrency,
        "cell_s": plan.cell_s,
        "resources": args.resources,
        "deploy": args.deploy,
        "pyml_toml": args.pyml_toml,
        "gateway_args": args.gateway_arg,
    }


def make_home(workdir: Path, toml_lines: list[str]) -> Path:
    """A fresh copy of the example, trained (deterministic), with the extra pyml.toml lines."""
    home = workdir / NAME
    shutil.copytree(EXAMPLE, home, ignore=shutil.ignore_patterns("validation", "*.joblib"))
    train = REPO / "examples" / "train_breast_cancer.py"
    subprocess.run([sys.executable, str(train), str(home)], check=True)
    if toml_lines:
        toml = home / "pyml.toml"
        toml.write_text(toml.read_text() + "\n" + "\n".join(toml_lines) + "\n")
    return home


def tiled_rows(counts: list[int]) -> dict[int, pd.DataFrame]:
    """The example's validation rows (every 10th of the dataset) repeated to each count."""
    validation = load_breast_cancer(as_frame=True).data.iloc[::10].reset_index(drop=True)
    tiled: dict[int, pd.DataFrame] = {}
    for n in set(counts):
        index = np.resize(np.arange(len(validation)), n)
        tiled[n] = validation.iloc[index].reset_index(drop=True)
    return tiled


def measure_mlserver(
    target: str,
    grpc_port: int,
    plan: Plan,
    data: dict[int, pd.DataFrame],
    expected: dict[int, np.ndarray],
    workdir: Path,
) -> dict[str, object]:
    url = f"http://{target}{V2_INFER_PATH}"
    cells: list[Cell] = []
    for n in plan.rows:
        message = v2_infer_request(NAME, data[n]).SerializeToString()  # type: ignore[attr-defined]
        probe = probe_v2(target, V2_INFER_PATH, message, expected[n])
        print(f"  MLServer {n} rows: answer checked (max |diff| {probe.max_abs_diff:.1e})")
        cells += h2load_cells(url, write_frame(workdir, f"v2-{n}", message), probe, n, plan)
    oip = {
        str(n): perf.run_perf_analyzer(
            grpc_port, NAME, perf.matrix_input(data[n]), [1, 8], plan.perf_requests[n]
        )
        for n in plan.perf_rows
    }
    return {"h2load": [vars(c) for c in cells], "perf_analyzer": oip}


def measure_pyml(
    server: PymlServer,
    plan: Plan,
    data: dict[int, pd.DataFrame],
    expected: dict[int, np.ndarray],
    workdir: Path,
) -> dict[str, object]:
    url = f"http://{server.gateway.target}{PYML_PREDICT_PATH}"
    cells: list[Cell] = []
    for n in plan.rows:
        message = pyml_predict_request(NAME, data[n]).SerializeToString()
        probe = probe_pyml(server.gateway.target, PYML_PREDICT_PATH, message, expected[n][:, 0])
        print(f"  PyML {n} rows: answer checked (max |diff| {probe.max_abs_diff:.1e})")
        frame = write_frame(workdir, f"pyml-{n}", message)
        cells += h2load_cells(url, frame, probe, n, plan, server)
    client = client_p50(server, data[1], url, workdir)
    print(
        f"  pyml.Client.predict, 1 row, c=1: p50 {client['p50_ms']:.2f} ms; h2load in turns "
        f"{client['h2load_p50_ms']:.2f} ms",
        flush=True,
    )
    turns = oip_in_turns(server, plan, data, expected, workdir)
    port = server.gateway.oip_port
    oip = {
        str(n): perf.run_perf_analyzer(
            port, NAME, perf.columns_input(data[n]), [1, 8], plan.perf_requests[n]
        )
        for n in plan.perf_rows
    }
    return {
        "h2load": [vars(c) for c in cells],
        "perf_analyzer": oip,
        "client": client,
        "oip_h2load": turns,
    }


def oip_in_turns(
    server: PymlServer,
    plan: Plan,
    data: dict[int, pd.DataFrame],
    expected: dict[int, np.ndarray],
    workdir: Path,
) -> list[dict[str, object]]:
    """The same rows through PyML's OIP port and its native gRPC port, h2load on both, in
    turns (native, OIP, native, OIP): the one tool on both paths, so the ratio is the paths'."""
    native_url = f"http://{server.gateway.target}{PYML_PREDICT_PATH}"
    oip_target = f"127.0.0.1:{server.gateway.oip_port}"
    oip_url = f"http://{oip_target}{V2_INFER_PATH}"
    results: list[dict[str, object]] = []
    for n in plan.perf_rows:
        native = pyml_predict_request(NAME, data[n]).SerializeToString()
        oip = pyml_oip_request(NAME, data[n]).SerializeToString()  # type: ignore[attr-defined]
        native_probe = probe_pyml(
            server.gateway.target, PYML_PREDICT_PATH, native, expected[n][:, 0]
        )
        oip_probe = probe_pyml_oip(oip_target, V2_INFER_PATH, oip, expected[n][:, 0])
        frames = {
            "native": (native_url, write_frame(workdir, f"turn-native-{n}", native), native_probe),
            "oip": (oip_url, write_frame(workdir, f"turn-oip-{n}", oip), oip_probe),
        }
        # The native path's warm-up at this row count, for the OIP path too: a quarter of it
        # left the gateway's OIP conversions still being compiled (at 1,000 rows with batching
        # its CPU per OIP call fell from 1.85 to 0.97 ms over 3 rounds of 3,000 calls, while
        # the native path's stayed near 0.6-1.1 ms; 7 December).
        rate = warm_up_rate(oip_url, frames["oip"][1], oip_probe, n, f"OIP {n} rows c=8")
        for streams in (1, 8):
            requests = max(streams, min(100_000, round(rate * plan.cell_s / 2)))
            runs: dict[str, list[dict[str, object]]] = {"native": [], "oip": []}
            for _ in range(2):
                for path, (url, frame, probe) in frames.items():
                    result = run_h2load(
                        url,
                        frame,
                        probe.answer_bytes,
                        requests,
                        streams,
                        max(90.0, 10 * plan.cell_s),
                    )
                    runs[path].append(result.as_dict())
            results.append({"rows": n, "streams": streams, **runs})
            print_turns(f"{n} rows c={streams}", {"native": runs["native"], "OIP": runs["oip"]})
    return results


def peer_turns(
    peer_target: str,
    server: PymlServer,
    rows: pd.DataFrame,
    expected: np.ndarray,
    workdir: Path,
) -> list[dict[str, object]]:
    """MLServer and PyML on the same 1-row request, h2load on both in turns (MLServer, PyML,
    TURNS times each; c = 1 and 8), both warm. The cells above are minutes apart, and this
    machine's speed drifts by tens of percent within minutes: in turns, both meet the same."""
    peer_message = v2_infer_request(NAME, rows).SerializeToString()  # type: ignore[attr-defined]
    message = pyml_predict_request(NAME, rows).SerializeToString()
    sides = {
        "mlserver": (
            f"http://{peer_target}{V2_INFER_PATH}",
            write_frame(workdir, "turn-mlserver", peer_message),
            probe_v2(peer_target, V2_INFER_PATH, peer_message, expected),
        ),
        "pyml": (
            f"http://{server.gateway.target}{PYML_PREDICT_PATH}",
            write_frame(workdir, "turn-pyml", message),
            probe_pyml(server.gateway.target, PYML_PREDICT_PATH, message, expected[:, 0]),
        ),
    }
    results: list[dict[str, object]] = []
    for streams, calls in TURN_CALLS.items():
        runs: dict[str, list[dict[str, object]]] = {side: [] for side in sides}
        for _ in range(TURNS):
            for side, (url, frame, probe) in sides.items():
                result = run_h2load(url, frame, probe.answer_bytes, calls, streams, 90.0)
                runs[side].append(result.as_dict())
        results.append({"rows": 1, "streams": streams, **runs})
        print_turns(
            f"turns, 1 row c={streams}", {"MLServer": runs["mlserver"], "PyML": runs["pyml"]}
        )
    return results


def print_turns(what: str, runs: dict[str, list[dict[str, Any]]]) -> None:
    """One line per set of turns: each side's rates in the order they ran."""
    sides = "; ".join(
        f"{side} " + ", ".join(f"{r['ok_per_s']:.0f}" for r in side_runs) + " req/s"
        for side, side_runs in runs.items()
    )
    print(f"  {what}: {sides}", flush=True)


def client_p50(server: PymlServer, rows: pd.DataFrame, url: str, workdir: Path) -> dict[str, Any]:
    """`pyml.Client.predict` one call at a time (the Python client's own encode and decode
    included): its p50, and h2load's at c=1 on the same rows, in turns (h2load, client,
    h2load, client, ...) so that both meet the same load on a shared machine; each turn's ratio
    shows the spread. Bounded in calls and time."""
    message = pyml_predict_request(NAME, rows).SerializeToString()
    frame = write_frame(workdir, "client-turns", message)
    answer = 5 + len(call_raw(server.gateway.target, PYML_PREDICT_PATH, message))
    for _ in range(CLIENT_WARM_UP):
        server.client.predict(NAME, rows)
    times: list[float] = []
    h2load_p50: list[float] = []
    turn_ratios: list[float] = []
    per_turn = CLIENT_CALLS // CLIENT_TURNS
    for _ in range(CLIENT_TURNS):
        result = run_h2load(url, frame, answer, per_turn, 1, CLIENT_SECONDS * 4)
        h2load_p50.append(result.p50_ms)
        end = time.monotonic() + CLIENT_SECONDS / CLIENT_TURNS
        turn: list[float] = []
        for _ in range(per_turn):
            if time.monotonic() > end:
                break
            start = time.perf_counter()
            server.client.predict(NAME, rows)
            turn.append(time.perf_counter() - start)
        times += turn
        if turn and result.p50_ms > 0:  # h2load's p50 is 0 when no call of its turn answered
            turn_ratios.append(float(np.median(turn)) * 1000 / result.p50_ms)
    return {
        "p50_ms": float(np.median(times)) * 1000,
        "calls": len(times),
        "h2load_p50_ms": float(np.median(h2load_p50)),
        "turn_ratios": turn_ratios,
    }


def write_frame(workdir: Path, name: str, message: bytes) -> Path:
    path = workdir / f"{name}.frame"
    path.write_bytes(grpc_frame(message))
    return path


def h2load_cells(
    url: str, frame: Path, probe: Probe, n: int, plan: Plan, pyml: PymlServer | None = None
) -> list[Cell]:
    """The warm-up (which also estimates the rate), then every concurrency of this row count."""
    rate = warm_up_rate(url, frame, probe, n, f"{n} rows c=8")
    cells = []
    for streams in plan.concurrency:
        cell = Cell(n, streams)
        for _ in range(plan.spread_runs if (n, streams) in plan.spread else 1):
            requests = max(streams, min(100_000, round(rate * plan.cell_s)))
            cell.runs.append(timed(url, frame, probe, requests, streams, plan, pyml))
        cells.append(cell)
    return cells


def warm_up_rate(url: str, frame: Path, probe: Probe, n: int, what: str) -> float:
    """WARM_UP[n] calls at c=8, then their rate (req/s), which sizes the runs that follow."""
    warm = run_h2load(url, frame, probe.answer_bytes, WARM_UP[n], 8, WARM_UP_CAP_S)
    print(f"  warm-up {what}: {warm.ok_per_s:.1f} req/s, {warm.failed} failed", flush=True)
    if warm.timed_out:
        # A killed h2load reports nothing: the cells would be sized from no rate at all.
        warm = run_h2load(url, frame, probe.answer_bytes, RATE_CALLS[n], 8, WARM_UP_CAP_S)
        print(
            f"  the warm-up hit its {WARM_UP_CAP_S:.0f} s cap; rate from {RATE_CALLS[n]} more "
            f"calls: {warm.ok_per_s:.1f} req/s",
            flush=True,
        )
        if warm.timed_out:
            raise RuntimeError(
                f"h2load reached its {WARM_UP_CAP_S:.0f} s cap twice at {n} rows (warm-up and "
                f"{RATE_CALLS[n]} calls): the server is hung or far slower than a run can measure"
            )
    return max(warm.ok_per_s, 1.0)


def timed(
    url: str,
    frame: Path,
    probe: Probe,
    requests: int,
    streams: int,
    plan: Plan,
    pyml: PymlServer | None,
) -> dict[str, object]:
    """One h2load cell; for PyML, the gateway's counters around it (refusals, restarts)."""
    before = pyml.metrics() if pyml else {}
    restarts = pyml.restarts() if pyml else 0
    cap = max(90.0, 10 * plan.cell_s)
    result: H2loadResult = run_h2load(url, frame, probe.answer_bytes, requests, streams, cap)
    run = result.as_dict()
    if pyml is not None:
        after = pyml.metrics()
        run["outcomes"] = outcome_deltas(before, after)
        run["refused"] = delta(before, after, "pyml_admission_rejections_total")
        run["restarts"] = pyml.restarts() - restarts
        if run["restarts"]:
            wait_ready(pyml)
    print(
        f"  c={streams:<3} {result.ok_per_s:10.1f} req/s  p50 {result.p50_ms:8.2f} ms  "
        f"failed {result.failed}" + (f"  {run.get('outcomes')}" if pyml else ""),
        flush=True,
    )
    return run


def delta(before: dict[str, float], after: dict[str, float], prefix: str) -> int:
    total: Callable[[dict[str, float]], float] = lambda s: sum(  # noqa: E731
        v for k, v in s.items() if k.startswith(prefix + "{")
    )
    return round(total(after) - total(before))


def outcome_deltas(before: dict[str, float], after: dict[str, float]) -> dict[str, int]:
    """Predictions by outcome (OK or the gateway's error kind) during the cell."""
    outcomes: dict[str, int] = {}
    for key, value in after.items():
        if key.startswith("pyml_predict_requests_total{"):
            outcome = key.split('outcome="')[1].split('"')[0]
            count = round(value - before.get(key, 0.0))
            if count:
                outcomes[outcome] = count
    return outcomes


def wait_ready(server: PymlServer, timeout: float = 120.0) -> None:
    """After a restart, let the replica come back before the next cell."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.client.deployment(server.name).state == "READY":
            return
        time.sleep(0.5)
    # The next cells would measure a deployment that does not serve: stop the run instead.
    info = server.client.deployment(server.name)
    raise RuntimeError(f"{server.name} not READY {timeout:.0f} s after a restart: {info}")


if __name__ == "__main__":
    main()
