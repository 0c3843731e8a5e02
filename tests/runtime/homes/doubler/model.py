"""A Tensor model for the runtime tests: 0-d, 2-d and bool outputs."""

from __future__ import annotations

import numpy as np

from pyml import TensorModel


class Doubler(TensorModel):
    def __init__(self, home: str) -> None:
        self.home = home

    def predict(self, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        x = tensors["x"]
        return {
            "doubled": x * 2,
            "total": np.asarray(x.sum(), dtype=np.float32),
            "positive": x > 0,
            "next_ids": tensors["ids"] + 1,
        }
