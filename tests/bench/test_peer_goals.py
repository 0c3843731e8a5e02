"""How `make bench-peers` reads issue 13's goals from one run (bench/peers/goals.py): met only
when every reading was measured and meets it, out of reach only with a floor measured in the
same run."""

from __future__ import annotations

from typing import Any

from bench.peers.goals import goal_rows
from bench.peers.report import client_line


def _runs(rate: float, p50: float = 1.0, failed: int = 0, **extra: int) -> list[dict[str, Any]]:
    return [{"ok_per_s": rate, "p50_ms": p50, "failed": failed, **extra}]


def _cell(rows: int, streams: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"rows": rows, "streams": streams, "runs": runs}


def _results(
    pyml_c8: float,
    turns_c8: float,
    *,
    batching: bool = False,
    model_floor: float = 1_300.0,
    hops: tuple[float, float] = (12.0, 8.0),
    c32: dict[str, int] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    mlserver = [
        _cell(1, 1, _runs(500, p50=2.0)),
        _cell(1, 8, _runs(900)),
        _cell(1000, 8, _runs(250)),
        _cell(100_000, 8, _runs(4)),
    ]
    pyml = {
        "batching": batching,
        "h2load": [
            _cell(1, 1, _runs(400, p50=2.5)),
            _cell(1, 8, _runs(pyml_c8)),
            _cell(1000, 8, _runs(600)),
            _cell(100_000, 8, _runs(15)),
            _cell(100_000, 32, _runs(8, **(c32 or {"failed": 30, "refused": 30}))),
        ],
        "peer_turns": [
            {"rows": 1, "streams": 8, "mlserver": _runs(900), "pyml": _runs(turns_c8)},
        ],
        "oip_h2load": [
            {"rows": 1, "streams": 8, "native": _runs(900, p50=4.0), "oip": _runs(800, p50=4.4)}
        ],
        "client": {"p50_ms": 2.8, "h2load_p50_ms": 2.5},
    }
    results = {
        "mlserver": {"h2load": mlserver},
        "floor": {
            "100000": {"calls_per_s": 200.0},
            "1 (model.py predict)": {"calls_per_s": model_floor},
        },
        "model_after_wait": {"wait_ms": 1.0, "ms": 2.1},
        "hop_ms": {"tcp": hops[0], "unix": hops[1]},
    }
    return results, pyml


def _verdicts(results: dict[str, Any], pyml: dict[str, Any]) -> dict[str, str]:
    return {goal.split(":")[0]: verdict for goal, _, verdict in goal_rows(results, pyml)}


def test_a_goal_is_met_only_when_the_cell_and_the_turns_both_meet_it() -> None:
    both = _verdicts(*_results(2_000, 1_900, batching=True))
    one = _verdicts(*_results(2_000, 1_700, batching=True))
    assert both["1 row, c=8"] == "met"
    assert one["1 row, c=8"] == "not met"


def test_one_row_at_c8_is_out_of_reach_only_when_the_models_own_floor_is_below_2x() -> None:
    below = _verdicts(*_results(800, 800, model_floor=1_300))
    above = _verdicts(*_results(800, 800, model_floor=1_900))
    batched = _verdicts(*_results(1_500, 1_500, batching=True, model_floor=1_300))
    assert below["1 row, c=8"].startswith("out of reach: the model's own predict")
    assert above["1 row, c=8"] == "not met"
    assert batched["1 row, c=8"] == "not met"  # a batch is one call for many requests


def test_one_row_at_c8_is_out_of_reach_for_the_design_when_model_and_empty_hops_fill_the_cpus() -> (
    None
):
    # MLServer's 900 req/s: 1,800 needed. The model alone does 1,900 calls/s on two CPUs
    # (1.05 ms of CPU a call); with 0.5 ms of CPU for a call through the empty hops, 1,288.
    results, pyml = _results(800, 800, model_floor=1_900)
    results["hop_floor"] = {"p50_ms": 0.6, "cpu_ms": 0.5}
    verdict = goal_rows(results, pyml)[0][2]
    assert verdict.startswith("out of reach for the gateway -> container design")
    assert "1.05 ms of CPU a call (two processes, 1,900 calls/s)" in verdict
    assert "0.50 ms, on 2 CPUs: 1,288 calls/s < 2x MLServer (1,800)" in verdict
    results["hop_floor"]["cpu_ms"] = 0.01
    assert goal_rows(results, pyml)[0][2] == "not met"
    results["hop_floor"]["cpu_ms"] = 0.5
    batched_results, batched = _results(1_500, 1_500, batching=True, model_floor=1_900)
    batched_results["hop_floor"] = results["hop_floor"]
    assert goal_rows(batched_results, batched)[0][2] == "not met"


def test_one_row_c1_is_out_of_reach_for_the_design_when_empty_hops_and_the_model_are_slower() -> (
    None
):
    # MLServer's p50: 2.0 ms. No Python-only floor in this run; through the empty hops 0.6 ms
    # and the model after a wait that long 1.6 ms: 2.2 ms, above it; with 1.3 ms, below it.
    results, pyml = _results(800, 800)
    pyml["peer_turns"].append(
        {"rows": 1, "streams": 1, "mlserver": _runs(500, p50=1.9), "pyml": _runs(400, p50=2.4)}
    )
    results["hop_floor"] = {"p50_ms": 0.6, "cpu_ms": 0.5}
    results["model_after_hop_wait"] = {"wait_ms": 0.6, "ms": 1.6}
    _, figures, verdict = goal_rows(results, pyml)[1]
    assert verdict == (
        "out of reach for the gateway -> container design: a call through its hops with nothing"
        " in them 0.60 ms + the model's predict after that wait 1.60 ms = 2.20 ms > MLServer's"
        " p50 (2.00 ms)"
    )
    assert "through the design's hops with nothing in them 0.60 ms" in figures
    results["model_after_hop_wait"]["ms"] = 1.3
    assert goal_rows(results, pyml)[1][2] == "not met"


def test_one_row_c1_is_out_of_reach_only_when_python_grpc_plus_the_model_is_slower() -> None:
    # MLServer's p50: 2.0 ms in the cell. An empty answer's round trip in Python plus the model's
    # predict after a wait as long: 0.5 + 2.1 ms, above it; 0.5 + 1.4 ms, below it.
    results, pyml = _results(800, 800)
    pyml["peer_turns"].append(
        {"rows": 1, "streams": 1, "mlserver": _runs(500, p50=1.9), "pyml": _runs(400, p50=2.4)}
    )
    results["python_grpc"] = {"sync": 0.5, "asyncio": 0.6, "ms": 0.5}
    results["model_after_wait"] = {"wait_ms": 0.5, "ms": 2.1}
    _, figures, verdict = goal_rows(results, pyml)[1]
    assert verdict.startswith("out of reach for a Python gRPC server that calls model.py's")
    assert "0.50 ms + the model's predict 2.10 ms = 2.60 ms > MLServer's p50 (2.00 ms)" in verdict
    assert "after a 0.50 ms wait 2.10 ms" in figures
    results["model_after_wait"]["ms"] = 1.4
    assert goal_rows(results, pyml)[1][2] == "not met"


def test_one_row_c1_is_not_out_of_reach_without_the_floor_or_in_a_slower_turn() -> None:
    results, pyml = _results(800, 800)
    pyml["peer_turns"].append(
        {"rows": 1, "streams": 1, "mlserver": _runs(500, p50=1.9), "pyml": _runs(400, p50=2.4)}
    )
    assert goal_rows(results, pyml)[1][2] == "not met"  # no Python gRPC floor measured
    # A turn where MLServer's p50 (2.8 ms) is above the floor (2.6 ms), and PyML missed it too.
    results["python_grpc"] = {"ms": 0.5}
    pyml["peer_turns"][-1] = {
        "rows": 1,
        "streams": 1,
        "mlserver": _runs(400, p50=2.8),
        "pyml": _runs(300, p50=3.0),
    }
    assert goal_rows(results, pyml)[1][2] == "not met"


def test_a_missing_reading_or_failed_calls_never_make_a_goal_met() -> None:
    results, pyml = _results(2_000, 1_900, batching=True)
    pyml["peer_turns"] = []  # the turns did not run
    assert _verdicts(results, pyml)["1 row, c=8"] == "not met"
    results, pyml = _results(2_000, 1_900, batching=True)
    pyml["h2load"][0]["runs"][0]["p50_ms"] = 1.0  # faster than MLServer's 2.0 ms...
    pyml["peer_turns"].append(
        {"rows": 1, "streams": 1, "mlserver": _runs(500, p50=2.0), "pyml": _runs(500, p50=1.0)}
    )
    assert _verdicts(results, pyml)["1 row, c=1"] == "met"
    pyml["h2load"][0]["runs"][0]["failed"] = 3  # ...but some calls failed fast
    assert _verdicts(results, pyml)["1 row, c=1"] == "not met"


def test_a_run_that_answered_nothing_gives_verdicts_not_a_crash() -> None:
    results, pyml = _results(0, 0, batching=True)
    for cell in results["mlserver"]["h2load"]:
        cell["runs"][0]["ok_per_s"] = 0.0
    pyml["oip_h2load"][0]["oip"][0]["p50_ms"] = float("nan")
    pyml["client"] = {}
    verdicts = [verdict for _, _, verdict in goal_rows(results, pyml)]
    assert "met" not in verdicts[:3] and verdicts[-2:] == ["not met", "not met"]


def test_half_the_floor_is_out_of_reach_when_the_socket_hops_cost_more_than_the_model() -> None:
    # The floor's 200 calls/s on two cores: 10 ms of model CPU per call.
    rows = {g: v for g, _, v in goal_rows(*_results(800, 800, hops=(6.0, 5.0)))}
    half = next(v for g, v in rows.items() if "0.5 of the in-process floor" in g)
    assert half.startswith("out of reach for the gateway -> container design: half the floor")
    assert "leaves 10.0 ms" in half
    rows = {g: v for g, _, v in goal_rows(*_results(800, 800, hops=(5.0, 4.0)))}
    assert next(v for g, v in rows.items() if "0.5 of the in-process floor" in g) == "not met"


def test_c32_is_met_only_when_every_failure_is_a_refusal_and_nothing_restarted() -> None:
    def c32(**counts: int) -> str:
        rows = {g: v for g, _, v in goal_rows(*_results(800, 800, c32=counts))}
        return next(v for g, v in rows.items() if g.startswith("100,000 rows, c=32"))

    assert c32(failed=30, refused=30) == "met"
    assert c32(failed=31, refused=30) == "not met"
    assert c32(failed=30, refused=30, restarts=1) == "not met"


def test_a_cell_the_plan_leaves_out_is_not_measured_not_met() -> None:
    results, pyml = _results(2_000, 1_900, batching=True)
    pyml["h2load"] = [c for c in pyml["h2load"] if c["rows"] != 1000 and c["streams"] != 32]
    verdicts = _verdicts(results, pyml)
    assert verdicts["1,000 rows, c=8"] == "not measured"
    assert verdicts["100,000 rows, c=32"] == "not measured"


def test_the_client_line_gives_the_spread_of_its_turns_beside_the_whole_runs_ratio() -> None:
    _, pyml = _results(800, 800)
    pyml["client"] = {
        "p50_ms": 3.0,
        "calls": 1000,
        "h2load_p50_ms": 2.5,
        "turn_ratios": [1.31, 1.12, 1.2, 1.18, 1.25],
    }
    (line,) = client_line(pyml)
    assert line.endswith("client ÷ h2load 1.20x (turns 1.12x-1.31x)"), line
    del pyml["client"]["turn_ratios"]  # a result written before the turns were counted
    assert client_line(pyml)[0].endswith("client ÷ h2load 1.20x"), client_line(pyml)
