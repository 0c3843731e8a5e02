"""The issue's table from one run's results: printed, and written as JSON and markdown."""

from __future__ import annotations

import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

from bench.peers.goals import goal_rows


def write(results: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    # The results first: a report that fails to render must not lose the run.
    (folder / f"peers-{stamp}.json").write_text(json.dumps(results, indent=2, default=str))
    text = markdown(results)
    (folder / f"peers-{stamp}.md").write_text(text)
    print(text)
    print(f"written to {folder}/peers-{stamp}.json and .md")


def markdown(results: dict[str, Any]) -> str:
    plan = results["plan"]
    lines = [
        f"# bench/peers: MLServer 1.7 vs PyML, breast_cancer_lr ({results['seconds']:.0f} s run)",
        "",
        f"PyML options: resources {plan['resources'] or 'default'}, deploy "
        f"{plan.get('deploy') or 'default'}, pyml.toml "
        f"{plan['pyml_toml'] or 'as the example'}, gateway args {plan['gateway_args'] or 'none'}.",
        "h2load, one connection, c streams. Values with several runs: median (min-max).",
        "Load average (1, 5, 15 min): "
        + "; ".join(
            f"{k} {', '.join(f'{v:.1f}' for v in vs)}" for k, vs in results["load"].items()
        ),
        "",
        *[
            line
            for label, pyml in results["pyml"].items()
            for line in (
                f"## {label} (÷ MLServer in the same run)",
                "",
                *h2load_table(results, pyml),
                "",
                *perf_table(results, pyml),
                "",
                *peer_turns_table(pyml),
                "",
                *oip_turns_table(pyml),
                "",
                *client_line(pyml),
                "",
                *goals_table(results, pyml),
                "",
            )
        ],
        *floor_table(results),
        "",
    ]
    return "\n".join(lines)


def _loads(load: dict[str, list[float]]) -> str:
    return "; ".join(
        f"{when} {', '.join(f'{v:.1f}' for v in values)}" for when, values in load.items()
    )


def _stat(runs: list[dict[str, Any]], key: str, scale: float = 1.0) -> tuple[float, str]:
    values = [float(r[key]) * scale for r in runs]
    middle = statistics.median(values)
    text = _num(middle)
    if len(values) > 1:
        text += f" ({_num(min(values))}-{_num(max(values))})"
    return middle, text


def _num(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value >= 100_000:
        return f"{value / 1000:,.0f}k"
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b and not (math.isnan(a) or math.isnan(b)) else "n/a"


def h2load_table(results: dict[str, Any], pyml: dict[str, Any]) -> list[str]:
    peer = {(c["rows"], c["streams"]): c["runs"] for c in results["mlserver"]["h2load"]}
    floor_rows = results["floor"].get("100000", {}).get("rows_per_s", float("nan"))
    lines = [
        "| rows | c | MLServer p50 ms | MLServer req/s | MLServer rows/s | failed "
        "| PyML p50 ms | PyML req/s | PyML rows/s | failed | refused | restarts "
        "| p50 PyML÷ML | req/s PyML÷ML | rows/s PyML÷floor |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for cell in pyml["h2load"]:
        rows, streams, mine = cell["rows"], cell["streams"], cell["runs"]
        theirs = peer.get((rows, streams), [])
        ml_p50, ml_p50_text = _stat(theirs, "p50_ms") if theirs else (math.nan, "n/a")
        ml_rate, ml_rate_text = _stat(theirs, "ok_per_s") if theirs else (math.nan, "n/a")
        ml_rows_text = _stat(theirs, "ok_per_s", rows)[1] if theirs else "n/a"
        ml_failed = sum(r["failed"] for r in theirs)
        p50, p50_text = _stat(mine, "p50_ms")
        rate, rate_text = _stat(mine, "ok_per_s")
        rows_rate, rows_text = _stat(mine, "ok_per_s", rows)
        lines.append(
            f"| {rows:,} | {streams} | {ml_p50_text} | {ml_rate_text} | {ml_rows_text} "
            f"| {ml_failed} | {p50_text} | {rate_text} | {rows_text} "
            f"| {sum(r['failed'] for r in mine)} | {sum(r.get('refused', 0) for r in mine)} "
            f"| {sum(r.get('restarts', 0) for r in mine)} | {_ratio(p50, ml_p50)} "
            f"| {_ratio(rate, ml_rate)} "
            f"| {_ratio(rows_rate, floor_rows) if rows == 100_000 else ''} |"
        )
    return lines


def perf_table(results: dict[str, Any], pyml: dict[str, Any]) -> list[str]:
    lines = [
        "perf_analyzer on each OIP gRPC port (V2 ModelInfer), count windows:",
        "",
        "| rows | c | MLServer infer/s | p50 ms | PyML infer/s | p50 ms | PyML÷ML infer/s "
        "| PyML OIP÷native gRPC |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    native = {(c["rows"], c["streams"]): c["runs"] for c in pyml["h2load"]}
    notes = []
    for rows, mine in pyml["perf_analyzer"].items():
        theirs = results["mlserver"]["perf_analyzer"].get(rows)
        if isinstance(theirs, str):
            notes.append(f"MLServer, {rows} rows: {_one_line(theirs)}")
        if isinstance(mine, str):
            notes.append(f"PyML, {rows} rows: {_one_line(mine)}")
            continue
        for streams, point in sorted(mine.items(), key=lambda kv: int(kv[0])):
            peer = theirs.get(streams) if isinstance(theirs, dict) else None
            peer_text = (
                f"{_num(peer['throughput'])} | {_num(peer['p50_ms'])}" if peer else "n/a | n/a"
            )
            grpc_runs = native.get((int(rows), int(streams)))
            grpc_rate = _stat(grpc_runs, "ok_per_s")[0] if grpc_runs else math.nan
            lines.append(
                f"| {int(rows):,} | {streams} | {peer_text} | {_num(point['throughput'])} "
                f"| {_num(point['p50_ms'])} "
                f"| {_ratio(point['throughput'], peer['throughput']) if peer else 'n/a'} "
                f"| {_ratio(point['throughput'], grpc_rate)} |"
            )
    return lines + [""] + [f"- {note}" for note in notes]


def peer_turns_table(pyml: dict[str, Any]) -> list[str]:
    """MLServer and PyML on 1 row, h2load on both, in turns at the end of the variant."""
    return _turns_table(
        pyml.get("peer_turns"),
        "MLServer and PyML in turns, 1 row (MLServer, PyML, three times each, both warm; the"
        " cells above are minutes apart):",
        ("mlserver", "MLServer"),
        ("pyml", "PyML"),
    )


def oip_turns_table(pyml: dict[str, Any]) -> list[str]:
    """PyML's OIP port against its native gRPC port, both with h2load, run in turns."""
    return _turns_table(
        pyml.get("oip_h2load"),
        "PyML's OIP port vs its native gRPC port, h2load on both (native, OIP, native, OIP):",
        ("native", "native"),
        ("oip", "OIP"),
    )


def _turns_table(
    turns: list[dict[str, Any]] | None, title: str, base: tuple[str, str], other: tuple[str, str]
) -> list[str]:
    """Two servers or paths measured in turns: each one's rate and p50, and other ÷ base."""
    if not turns:
        return []
    (base_key, base_name), (key, name) = base, other
    lines = [
        title,
        "",
        f"| rows | c | {base_name} req/s | p50 ms | {name} req/s | p50 ms "
        f"| {name}÷{base_name} req/s | {name} p50 ÷ {base_name} |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for turn in turns:
        base_rate, base_text = _stat(turn[base_key], "ok_per_s")
        rate, text = _stat(turn[key], "ok_per_s")
        base_p50, base_p50_text = _stat(turn[base_key], "p50_ms")
        p50, p50_text = _stat(turn[key], "p50_ms")
        lines.append(
            f"| {turn['rows']:,} | {turn['streams']} | {base_text} | {base_p50_text} "
            f"| {text} | {p50_text} | {_ratio(rate, base_rate)} | {_ratio(p50, base_p50)} |"
        )
    return lines


def _one_line(error: str) -> str:
    """perf_analyzer's error line (MLServer 1.7 has no ModelConfig, which perf_analyzer asks)."""
    found = [line.strip() for line in error.splitlines() if "error" in line.lower()]
    return (found[-1] if found else error.strip().replace("\n", " "))[:300]


def floor_table(results: dict[str, Any]) -> list[str]:
    lines = [
        "In-process floor (two processes calling the pipeline's predict_proba on the same rows:"
        " a DataFrame as PyML's model gets, or a numpy array as MLServer's sklearn runtime"
        " passes; and the example's own model.py predict, what PyML calls per request as the"
        " example is):",
        "",
        "| rows | calls/s | rows/s |",
        "|---:|---:|---:|",
    ]
    for rows, point in results["floor"].items():
        count, _, kind = rows.partition(" ")
        label = f"{int(count):,} {kind}".strip()
        lines.append(f"| {label} | {_num(point['calls_per_s'])} | {_num(point['rows_per_s'])} |")
    after = results.get("model_after_wait")
    if after:
        lines += [
            "",
            f"The model's predict on 1 row after a {after['wait_ms']:.2f} ms wait:"
            f" {after['ms']:.2f} ms (median).",
        ]
    empty = results.get("python_grpc")
    if empty:
        lines.append(
            f"A Python gRPC server's empty answer to the 1-row request, h2load c=1 (p50, from"
            f" the cheaper of the run's two readings, start or end): sync {empty['sync']:.2f} ms,"
            f" asyncio {empty['asyncio']:.2f} ms."
        )
    hop = results.get("hop_floor")
    if hop:
        lines.append(
            "PyML's design with nothing in it (h2load -> a grpc-java proxy -> a Python gRPC"
            " server's empty answer on a Unix socket, bench/peers/hop_floor.py; the cheaper of"
            f" the run's two readings): p50 at c=1 {hop['p50_ms']:.2f} ms; CPU a call at c=8"
            f" {hop['cpu_ms']:.2f} ms ("
            + ", ".join(f"{who} {ms:.2f}" for who, ms in hop.get("cpu_parts", {}).items())
            + ")."
        )
    after_hop = results.get("model_after_hop_wait")
    if after_hop:
        lines.append(
            f"The model's predict on 1 row after a {after_hop['wait_ms']:.2f} ms wait (that"
            f" p50): {after_hop['ms']:.2f} ms (median)."
        )
    hops = results.get("hop_ms")
    if hops:
        lines.append(
            f"The 100,000-row request over one loopback TCP hop: {hops['tcp']:.1f} ms of CPU;"
            f" over one Unix-socket hop: {hops['unix']:.1f} ms (sender + receiver)."
        )
    return lines


def client_line(pyml: dict[str, Any]) -> list[str]:
    """pyml.Client.predict's p50 beside h2load's (1 row, c=1): the Python client's cost."""
    client = pyml.get("client")
    cells = [c for c in pyml["h2load"] if c["rows"] == 1 and c["streams"] == 1]
    if not client or not cells:
        return []
    h2load_p50, _ = _stat(cells[0]["runs"], "p50_ms")
    # h2load's p50 measured in turns with the client (newer results): the same conditions.
    h2load_p50 = client.get("h2load_p50_ms", h2load_p50)
    turns = client.get("turn_ratios") or []
    spread = f" (turns {min(turns):.2f}x-{max(turns):.2f}x)" if turns else ""
    return [
        f"pyml.Client.predict, 1 row, c=1: p50 {client['p50_ms']:.2f} ms over "
        f"{client['calls']} calls; h2load p50 {h2load_p50:.2f} ms (in turns with it); "
        f"client ÷ h2load {_ratio(client['p50_ms'], h2load_p50)}{spread}"
    ]


def goals_table(results: dict[str, Any], pyml: dict[str, Any]) -> list[str]:
    """Issue 13's goals in this run (bench/peers/goals.py says how each is read)."""
    return [
        "Issue 13's goals in this run (met only when every reading was measured and meets it;"
        " out of reach only with a floor measured in this run; bench/peers/goals.py):",
        "",
        "| goal | this run | verdict |",
        "|---|---|---|",
        *(
            f"| {goal} | {figures} | {verdict} |"
            for goal, figures, verdict in goal_rows(results, pyml)
        ),
    ]
