"""Write the softmax tensor example's weights and validation data.

python examples/make_softmax_tensor.py [HOME]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import pyml

DEFAULT_HOME = Path(__file__).parent / "softmax_tensor"


def make(home: Path) -> None:
    rng = np.random.default_rng(7)
    weights = rng.normal(size=(4, 3)).astype(np.float32)
    bias = rng.normal(size=3).astype(np.float32)
    np.savez(home / "weights.npz", weights=weights, bias=bias)
    x = rng.normal(size=(16, 4)).astype(np.float32)
    report = pyml.save_validation(home, {"x": x})
    print(f"made {home.name}: validation data of {report.rows} rows written to {home}/validation")


if __name__ == "__main__":
    make(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_HOME)
