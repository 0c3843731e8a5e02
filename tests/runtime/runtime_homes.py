"""Test model homes and their data, shared by the runtime tests (tests.runtime.runtime_homes)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pyml_runtime.loader import load_model
from pyml_runtime.validation import write_validation

HOMES = Path(__file__).parent / "homes"
RUNTIME_BIN = Path(sys.executable).parent / "pyml-runtime"


def scorer_input() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": [0.5, 1.0, 2.0, 3.25],
            "y": [1.0, -1.0, 0.0, 0.5],
            "name": ["a", "b", None, "d"],
            "count": pd.array([1, None, 3, 4], dtype="Int64"),
        }
    )


def doubler_input() -> dict[str, np.ndarray]:
    return {
        "x": np.arange(12, dtype=np.float32).reshape(4, 3) - 3,
        "ids": np.array([10, 20, 30, 40], dtype=np.int64),
    }


def copy_home(name: str, dest: Path) -> Path:
    home = dest / name
    shutil.copytree(HOMES / name, home)
    return home


def save_validation(home: Path, data: pd.DataFrame | dict[str, np.ndarray]) -> None:
    """What pyml.save_validation does: run the model in-process and store input + outputs."""
    model = load_model(home)
    write_validation(home, model.kind, data, model.instance.predict(data))
