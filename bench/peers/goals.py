"""Issue 13's goals read from one run: each goal's figures, and met, not met, or out of reach.

A goal is met only when every reading of it in the run meets it (the cell, and the turns
where MLServer and PyML ran on the same minutes). "Out of reach" is said only with a floor
measured in the same run that no serving could go below:
- 1 row at c=8 without batching: every request is one call of the model's own `predict`, and
  two processes calling only that (no serving at all) do fewer calls/s than 2x MLServer.
- 1 row at c=1: the model's `predict` alone, after the wait a runtime has between calls at
  c=1, takes at least MLServer's whole p50.
- 100,000 rows at half the floor: half the floor leaves each call as much CPU beyond the model
  as the model takes, and moving the request over the two sockets on its way (client to
  gateway, gateway to runtime) costs more than that before anything parses it.
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

Row = tuple[str, str, str]  # goal, this run's figures, verdict


def goal_rows(results: dict[str, Any], pyml: dict[str, Any]) -> list[Row]:
    """One variant's goals (PyML as the example is, or opted in to batching)."""
    return [
        _one_row_c8(results, pyml),
        _one_row_c1(results, pyml),
        _rate_goal(results, pyml, 1000, "1,000 rows, c=8: >= 2x MLServer's rows/s"),
        _large_c8(results, pyml),
        _half_floor(results, pyml),
        _large_c32(pyml),
        _oip(pyml),
        _client(pyml),
    ]


def _runs(cells: list[dict[str, Any]], rows: int, streams: int) -> list[dict[str, Any]]:
    return next((c["runs"] for c in cells if (c["rows"], c["streams"]) == (rows, streams)), [])


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs) if runs else math.nan


def _turn(pyml: dict[str, Any], streams: int) -> dict[str, Any] | None:
    turns = pyml.get("peer_turns") or []
    return next((t for t in turns if (t["rows"], t["streams"]) == (1, streams)), None)


def _readings(
    results: dict[str, Any], pyml: dict[str, Any], rows: int, streams: int, key: str
) -> list[tuple[str, float, float]]:
    """(where, MLServer's, PyML's) median `key`: the cell, and the turns when there are."""
    found = [
        (
            "cell",
            _median(_runs(results["mlserver"]["h2load"], rows, streams), key),
            _median(_runs(pyml["h2load"], rows, streams), key),
        )
    ]
    turn = _turn(pyml, streams) if rows == 1 else None
    if turn:
        found.append(("turns", _median(turn["mlserver"], key), _median(turn["pyml"], key)))
    return [r for r in found if not (math.isnan(r[1]) or math.isnan(r[2]))]


def _x(value: float) -> str:
    return f"{value:.2f}x"


def _one_row_c8(results: dict[str, Any], pyml: dict[str, Any]) -> Row:
    goal = "1 row, c=8: >= 2x MLServer's req/s"
    readings = _readings(results, pyml, 1, 8, "ok_per_s")
    figures = ", ".join(f"{where} {_x(mine / theirs)}" for where, theirs, mine in readings)
    missed = [(theirs, mine) for _, theirs, mine in readings if mine < TIMES_MLSERVER * theirs]
    if not readings:
        return goal, "n/a", "not measured"
    if not missed:
        return goal, figures, "met"
    model = results["floor"].get(MODEL_FLOOR, {}).get("calls_per_s", math.nan)
    if not pyml.get("batching") and all(model < TIMES_MLSERVER * theirs for theirs, _ in missed):
        need = max(TIMES_MLSERVER * theirs for theirs, _ in missed)
        return (
            goal,
            figures,
            f"out of reach: the model's own predict, two processes and no serving, "
            f"{model:,.0f} calls/s < 2x MLServer ({need:,.0f})",
        )
    return goal, figures, "not met"


def _one_row_c1(results: dict[str, Any], pyml: dict[str, Any]) -> Row:
    goal = "1 row, c=1: p50 <= MLServer's"
    readings = _readings(results, pyml, 1, 1, "p50_ms")
    figures = ", ".join(
        f"{where} {mine:.2f} vs {theirs:.2f} ms ({_x(mine / theirs)})"
        for where, theirs, mine in readings
    )
    missed = [theirs for _, theirs, mine in readings if mine > theirs]
    if not readings:
        return goal, "n/a", "not measured"
    if not missed:
        return goal, figures, "met"
    after = results.get("model_after_wait", {})
    alone = float(after.get("ms", math.nan))
    if all(alone >= theirs for theirs in missed):
        return (
            goal,
            figures,
            f"out of reach: the model's predict alone after a {after['wait_ms']:g} ms wait "
            f"takes {alone:.2f} ms, >= MLServer's p50 ({max(missed):.2f} ms)",
        )
    left = min(missed) - alone
    return goal, figures, f"not met (the model alone takes {alone:.2f} ms: {left:.2f} ms left)"


def _rate_goal(results: dict[str, Any], pyml: dict[str, Any], rows: int, goal: str) -> Row:
    readings = _readings(results, pyml, rows, 8, "ok_per_s")
    if not readings:
        return goal, "n/a", "not measured"
    _, theirs, mine = readings[0]
    met = mine >= TIMES_MLSERVER * theirs
    return goal, _x(mine / theirs), "met" if met else "not met"


def _large_c8(results: dict[str, Any], pyml: dict[str, Any]) -> Row:
    goal, figures, verdict = _rate_goal(
        results, pyml, 100_000, "100,000 rows, c=8: >= 2x MLServer's rows/s, none failed"
    )
    failed = sum(int(r["failed"]) for r in _runs(pyml["h2load"], 100_000, 8))
    if failed and verdict == "met":
        verdict = "not met"
    return goal, f"{figures}, {failed} failed", verdict


def _half_floor(results: dict[str, Any], pyml: dict[str, Any]) -> Row:
    goal = "100,000 rows, c=8: >= 0.5 of the in-process floor's rows/s"
    rate = _median(_runs(pyml["h2load"], 100_000, 8), "ok_per_s")
    floor_calls = results["floor"].get("100000", {}).get("calls_per_s", math.nan)
    if math.isnan(rate) or math.isnan(floor_calls):
        return goal, "n/a", "not measured"
    share = rate / floor_calls
    if share >= FLOOR_SHARE:
        return goal, f"{share:.2f}", "met"
    # The floor's two processes keep both cores busy: one call costs the model 2 / floor
    # seconds of CPU, and at half the floor a call may cost twice that in all.
    model_ms = 2000 / floor_calls
    hops = results.get("hop_ms", {})
    hop_ms = float(hops.get("tcp", math.nan)) + float(hops.get("unix", math.nan))
    if hop_ms > model_ms:
        return (
            goal,
            f"{share:.2f}",
            f"out of reach: half the floor leaves {model_ms:.1f} ms of CPU per call beyond "
            f"the model; the request's two socket hops alone cost {hop_ms:.1f} ms",
        )
    return goal, f"{share:.2f}", "not met"


def _large_c32(pyml: dict[str, Any]) -> Row:
    goal = "100,000 rows, c=32: no restart, refusals only RESOURCE_EXHAUSTED"
    runs = _runs(pyml["h2load"], 100_000, 32)
    if not runs:
        return goal, "n/a", "not measured"
    restarts = sum(int(r.get("restarts", 0)) for r in runs)
    refused = sum(int(r.get("refused", 0)) for r in runs)
    other = sum(int(r["failed"]) for r in runs) - refused
    figures = f"{restarts} restarts, {refused} refused, {other} other failures"
    return goal, figures, "met" if restarts == 0 and other == 0 else "not met"


def _oip(pyml: dict[str, Any]) -> Row:
    goal = "OIP within 1.25x of native gRPC (req/s and p50, in turns)"
    turns = pyml.get("oip_h2load") or []
    if not turns:
        return goal, "n/a", "not measured"
    slowest = max(
        max(
            _median(t["native"], "ok_per_s") / _median(t["oip"], "ok_per_s"),
            _median(t["oip"], "p50_ms") / _median(t["native"], "p50_ms"),
        )
        for t in turns
    )
    figures = f"at worst {_x(slowest)} slower"
    return goal, figures, "met" if slowest <= OIP_WITHIN else "not met"


def _client(pyml: dict[str, Any]) -> Row:
    goal = "pyml.Client.predict, c=1: p50 within 1.3x of h2load's"
    client = pyml.get("client")
    if not client or "h2load_p50_ms" not in client:
        return goal, "n/a", "not measured"
    ratio = float(client["p50_ms"]) / float(client["h2load_p50_ms"])
    return goal, _x(ratio), "met" if ratio <= CLIENT_WITHIN else "not met"
