"""A model that misbehaves on purpose, on chosen inputs (end-to-end fault tests)."""

import os

import pandas as pd

from pyml import DataFrameModel


class Faulty(DataFrameModel):
    def __init__(self, home: str):
        self.home = home

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        if (df["x"] == 13).any():
            raise ValueError("unlucky 13")
        if (df["x"] == -1).any():
            os._exit(3)  # the runtime process dies mid-request
        return pd.DataFrame({"y": df["x"] * 2})
