"""The bench scripts run: the step timings once called a dataplane method that a refactor had
removed, and nothing noticed until it was run by hand (the suite imports no bench/ script)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_runtime_steps_runs_every_step(cancer_home: Path) -> None:
    script = ROOT / "bench" / "runtime_steps.py"
    result = subprocess.run(
        [sys.executable, str(script), "--repeats", "3", "--home", str(cancer_home)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for line in (
        "conform columns",
        "model.predict",
        "PredictBatch of 8",
        "decode_payload",
        "round trip",
    ):
        assert line in result.stdout


def test_socket_hop_floor_measures_both_sockets() -> None:
    script = ROOT / "bench" / "socket_hop_floor.py"
    result = subprocess.run(
        [sys.executable, str(script), "--mb", "1", "--sends", "3", "--repeats", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "tcp loopback" in result.stdout and "unix socket" in result.stdout


def test_idle_gap_floor_times_both_calls_with_and_without_a_gap(cancer_home: Path) -> None:
    script = ROOT / "bench" / "idle_gap_floor.py"
    result = subprocess.run(
        [
            sys.executable,
            str(script),
            "--home",
            str(cancer_home),
            "--calls",
            "3",
            "--gaps-ms",
            "0,0.5",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for name, gap in (("model.predict(1-row DataFrame)", "0.0"), ("predict_proba", "0.5")):
        assert any(
            line.startswith(name) and f"gap {gap}" in line for line in result.stdout.split("\n")
        )
