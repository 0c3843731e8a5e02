"""Issue 13's goals read from one run: each goal's figures, and met, not met, or out of reach.

A goal is met only when every reading of it in the run was measured and meets it (the cell,
and at 1 row the turns in which MLServer and PyML ran on the same minutes); a reading that is
missing, or a p50 goal's reading with failed calls, makes it "not met". "Out of reach" is said
only with a floor measured in the same run:
- 1 row at c=8 without batching: every request is one call of the model's own `predict`, and
  two processes calling only that (no serving at all) do fewer calls/s than 2x MLServer; or,
  for PyML's design, the two CPUs spent on nothing but that `predict` and a call through the
  design's hops with nothing in them (a grpc-java proxy to a Python gRPC server on a Unix
  socket, bench/peers/hop_floor.py; its CPU a call includes h2load's) do fewer than that.
- 100,000 rows at half the floor, for PyML's design: half the floor leaves each call as much
  CPU beyond the model as the model takes, and moving the request over the two sockets on its
  way (client to gateway, gateway to the runtime's container) costs more than that before
  anything parses it. The second hop is PyML's design, not every server's: the verdict gives
  the first hop alone beside it.
- 1 row at c=1: PyML calls the example's `model.py` `predict` on a DataFrame (its contract),
  MLServer the pipeline's `predict_proba` on a numpy row. A Python gRPC server that does
  nothing but answer (an empty answer, sync or asyncio grpcio, whichever is faster), plus the
  model's own `predict` after a wait as long as that round trip, takes longer than MLServer's
  p50 in every reading PyML missed. PyML's own path (the gateway, the runtime's codec) is not
  in that floor at all. For PyML's design the same, with the call through the hops with nothing
  in them (as above) instead of the Python server alone, and the model after that longer wait.
Everything else unmet is "not met", with the figures.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

TIMES_MLSERVER = 2.0
FLOOR_SHARE = 0.5
OIP_WITHIN = 1.25
CLIENT_WITHIN = 1.3
MODEL_FLOOR = "1 (model.py predict)"
FLOOR_PROCESSES = 2  # the in-process floors' processes: one a CPU of this machine
NOT_MEASURED = "not measured"  # a cell the run's plan leaves out (--quick): not met either

Row = tuple[str, str, str]  # goal, this run's figures, verdict
Runs = list[dict[str, Any]]


def goal_rows(results: dict[str, Any], pyml: dict[str, Any]) -> list[Row]:
    """One variant's goals (PyML as the example is, or opted in to batching)."""
    return [
        _one_row_c8(results, pyml),
        _one_row_c1(results, pyml),
        _rows_c8(results, pyml, 1000, "1,000 rows, c=8: >= 2x MLServer's rows/s"),
        _rows_c8(results, pyml, 100_000, "100,000 rows, c=8: >= 2x MLServer's rows/s, none failed"),
        _half_floor(results, pyml),
        _large_c32(pyml),
        _oip(pyml),
        _client(pyml),
    ]


def _runs(cells: Runs, rows: int, streams: int) -> Runs:
    return next((c["runs"] for c in cells if (c["rows"], c["streams"]) == (rows, streams)), [])


def _median(runs: Runs, key: str) -> float:
    """The runs' median; NaN when there is none or one is not a number."""
    values = [float(r.get(key, math.nan)) for r in runs]
    return statistics.median(values) if values and not any(map(math.isnan, values)) else math.nan


def _failed(runs: Runs) -> int:
    return sum(int(r.get("failed", 0)) for r in runs)


def _measured(*values: float) -> bool:
    return all(v > 0 and not math.isnan(v) for v in values)


def _x(value: float) -> str:
    return f"{value:.2f}x"


def _readings(
    results: dict[str, Any], pyml: dict[str, Any], rows: int, streams: int
) -> list[tuple[str, Runs, Runs]]:
    """(where, MLServer's runs, PyML's runs): the cell, and at 1 row the turns."""
    found = [
        (
            "cell",
            _runs(results["mlserver"]["h2load"], rows, streams),
            _runs(pyml["h2load"], rows, streams),
        )
    ]
    turns = (pyml.get("peer_turns") or []) if rows == 1 else []
    turn = next((t for t in turns if (t["rows"], t["streams"]) == (1, streams)), None)
    if rows == 1:
        found.append(("turns", turn["mlserver"] if turn else [], turn["pyml"] if turn else []))
    return found


def _rates(
    results: dict[str, Any], pyml: dict[str, Any], rows: int
) -> tuple[str, list[tuple[float, float]] | None]:
    """Figures of PyML ÷ MLServer req/s at c=8, and (MLServer's, PyML's) req/s of each reading;
    None when one is missing."""
    wheres, rates = [], []
    for where, theirs, mine in _readings(results, pyml, rows, 8):
        peer, rate = _median(theirs, "ok_per_s"), _median(mine, "ok_per_s")
        if not _measured(peer, rate):
            return "a reading is missing", None
        wheres.append(where)
        rates.append((peer, rate))
    figures = ", ".join(
        f"{w} {_x(rate / peer)}" for w, (peer, rate) in zip(wheres, rates, strict=True)
    )
    return figures, rates


def _one_row_c8(results: dict[str, Any], pyml: dict[str, Any]) -> Row:
    goal = "1 row, c=8: >= 2x MLServer's req/s"
    figures, rates = _rates(results, pyml, 1)
    if rates is None:
        return goal, figures, "not met"
    missed = [peer for peer, rate in rates if rate < TIMES_MLSERVER * peer]
    if not missed:
        return goal, figures, "met"
    model = results["floor"].get(MODEL_FLOOR, {}).get("calls_per_s", math.nan)
    need = TIMES_MLSERVER * min(missed)
    if pyml.get("batching") or not _measured(model):
        return goal, figures, "not met"  # a batch is one call of the model for many requests
    if model < need:
        return (
            goal,
            figures,
            f"out of reach: the model's own predict, two processes and no serving, "
            f"{model:,.0f} calls/s < 2x MLServer ({need:,.0f})",
        )
    hops = float((results.get("hop_floor") or {}).get("cpu_ms", math.nan))
    if _measured(hops):
        # The floor's processes keep both CPUs busy: a call costs the model 2 / floor s of CPU.
        model_ms = FLOOR_PROCESSES * 1000 / model
        design = FLOOR_PROCESSES * 1000 / (model_ms + hops)
        if design < need:
            return (
                goal,
                figures,
                f"out of reach for the gateway -> container design: the model's predict "
                f"{model_ms:.2f} ms of CPU a call (two processes, {model:,.0f} calls/s) + a call "
                f"through the design's hops with nothing in them {hops:.2f} ms, on "
                f"{FLOOR_PROCESSES} CPUs: {design:,.0f} calls/s < 2x MLServer ({need:,.0f})",
            )
    return goal, figures, "not met"


def _one_row_c1(results: dict[str, Any], pyml: dict[str, Any]) -> Row:
    goal = "1 row, c=1: p50 <= MLServer's"
    parts: list[str] = []
    missed: list[float] = []
    for where, theirs, mine in _readings(results, pyml, 1, 1):
        peer, p50 = _median(theirs, "p50_ms"), _median(mine, "p50_ms")
        if not _measured(peer, p50) or _failed(mine):
            parts.append(f"{where} missing or failed")
            return goal, "; ".join(parts), "not met"
        parts.append(f"{where} {p50:.2f} vs {peer:.2f} ms ({_x(p50 / peer)})")
        if p50 > peer:
            missed.append(peer)
    if not missed:
        return goal, "; ".join(parts), "met"
    model = float((results.get("model_after_wait") or {}).get("ms", math.nan))
    wait = float((results.get("model_after_wait") or {}).get("wait_ms", math.nan))
    empty = float((results.get("python_grpc") or {}).get("ms", math.nan))
    if _measured(model, wait):
        parts.append(f"the model's predict alone after a {wait:.2f} ms wait {model:.2f} ms")
    if _measured(model, empty) and model + empty > max(missed):
        return (
            goal,
            "; ".join(parts),
            f"out of reach for a Python gRPC server that calls model.py's predict: an empty "
            f"answer's round trip {empty:.2f} ms + the model's predict {model:.2f} ms = "
            f"{model + empty:.2f} ms > MLServer's p50 ({max(missed):.2f} ms)",
        )
    hop = float((results.get("hop_floor") or {}).get("p50_ms", math.nan))
    after_hop = float((results.get("model_after_hop_wait") or {}).get("ms", math.nan))
    if _measured(hop, after_hop):
        parts.append(
            f"through the design's hops with nothing in them {hop:.2f} ms, the model's predict "
            f"after that wait {after_hop:.2f} ms"
        )
        if hop + after_hop > max(missed):
            return (
                goal,
                "; ".join(parts),
                f"out of reach for the gateway -> container design: a call through its hops "
                f"with nothing in them {hop:.2f} ms + the model's predict after that wait "
                f"{after_hop:.2f} ms = {hop + after_hop:.2f} ms > MLServer's p50 "
                f"({max(missed):.2f} ms)",
            )
    return goal, "; ".join(parts), "not met"


def _rows_c8(results: dict[str, Any], pyml: dict[str, Any], rows: int, goal: str) -> Row:
    if not _runs(pyml["h2load"], rows, 8):
        return goal, "not in this run's plan", NOT_MEASURED
    figures, rates = _rates(results, pyml, rows)
    failed = _failed(_runs(pyml["h2load"], rows, 8))
    met = rates is not None and all(r >= TIMES_MLSERVER * p for p, r in rates) and not failed
    return goal, f"{figures}, {failed} failed", "met" if met else "not met"


def _half_floor(results: dict[str, Any], pyml: dict[str, Any]) -> Row:
    goal = "100,000 rows, c=8: >= 0.5 of the in-process floor's rows/s"
    rate = _median(_runs(pyml["h2load"], 100_000, 8), "ok_per_s")
    floor_calls = float(results["floor"].get("100000", {}).get("calls_per_s", math.nan))
    if not _measured(rate, floor_calls):
        return goal, "a reading is missing", "not met"
    share = rate / floor_calls
    if share >= FLOOR_SHARE:
        return goal, f"{share:.2f}", "met"
    # The floor's two processes keep both cores busy: one call costs the model 2 / floor
    # seconds of CPU, and at half the floor a call may cost twice that in all.
    model_ms = FLOOR_PROCESSES * 1000 / floor_calls
    hops = results.get("hop_ms") or {}
    tcp, unix = float(hops.get("tcp", math.nan)), float(hops.get("unix", math.nan))
    if _measured(tcp, unix) and tcp + unix > model_ms:
        return (
            goal,
            f"{share:.2f}",
            f"out of reach for the gateway -> container design: half the floor leaves "
            f"{model_ms:.1f} ms of CPU per call beyond the model; the request's two socket "
            f"hops cost {tcp + unix:.1f} ms (the client's TCP hop alone {tcp:.1f})",
        )
    return goal, f"{share:.2f}", "not met"


def _large_c32(pyml: dict[str, Any]) -> Row:
    goal = "100,000 rows, c=32: no restart, refusals only RESOURCE_EXHAUSTED"
    runs = _runs(pyml["h2load"], 100_000, 32)
    if not runs:
        return goal, "not in this run's plan", NOT_MEASURED
    restarts = sum(int(r.get("restarts", 0)) for r in runs)
    refused = sum(int(r.get("refused", 0)) for r in runs)
    other = _failed(runs) - refused
    figures = f"{restarts} restarts, {refused} refused, {other} other failures"
    return goal, figures, "met" if restarts == 0 and other == 0 else "not met"


def _oip(pyml: dict[str, Any]) -> Row:
    goal = "OIP within 1.25x of native gRPC (req/s and p50, in turns)"
    worst, where = math.nan, "no turns"
    for t in pyml.get("oip_h2load") or []:
        native, oip = t["native"], t["oip"]
        values = [_median(native, "ok_per_s"), _median(oip, "ok_per_s")]
        values += [_median(oip, "p50_ms"), _median(native, "p50_ms")]
        if not _measured(*values) or _failed(native) or _failed(oip):
            return goal, f"{_cell_name(t)} missing or failed", "not met"
        for slower, metric in ((values[0] / values[1], "req/s"), (values[2] / values[3], "p50")):
            if math.isnan(worst) or slower > worst:
                worst, where = slower, f"{_cell_name(t)} {metric}"
    if math.isnan(worst):
        return goal, where, "not met"
    return (
        goal,
        f"at worst {_x(worst)} slower ({where})",
        "met" if worst <= OIP_WITHIN else "not met",
    )


def _cell_name(cell: dict[str, Any]) -> str:
    rows = cell["rows"]
    return f"{rows:,} row{'' if rows == 1 else 's'} c={cell['streams']}"


def _client(pyml: dict[str, Any]) -> Row:
    goal = "pyml.Client.predict, c=1: p50 within 1.3x of h2load's"
    client = pyml.get("client") or {}
    mine = float(client.get("p50_ms", math.nan))
    tool = float(client.get("h2load_p50_ms", math.nan))
    if not _measured(mine, tool):
        return goal, "a reading is missing", "not met"
    return goal, _x(mine / tool), "met" if mine / tool <= CLIENT_WITHIN else "not met"
