"""`pyml` as a person runs it: a subprocess, wide enough that Rich never wraps a line that a
test reads, without a token from the developer's environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_pyml(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "COLUMNS": "300"}
    base.pop("PYML_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "pyml.cli", *args],
        env={**base, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
