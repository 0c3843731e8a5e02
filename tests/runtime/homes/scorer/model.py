"""A DataFrame model for the runtime tests: uses a helper module and a file from its home."""

from __future__ import annotations

import pandas as pd
from scoring import read_weight

from pyml import DataFrameModel


class Scorer(DataFrameModel):
    def __init__(self, home: str) -> None:
        self.weight = read_weight(home)

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        if (df["x"] < 0).any():
            raise ValueError("x must be non-negative")
        return pd.DataFrame(
            {
                "score": df["x"] * self.weight + df["y"],
                "label": df["name"].str.upper(),
                "twice": df["count"] * 2,
            }
        )
