"""A model that doubles `x`: trivial on purpose, its image is what the version-skew test is
about (see setup.sh)."""

import pandas as pd

from pyml import DataFrameModel


class Doubler(DataFrameModel):
    def __init__(self, home: str):
        self.home = home

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"y": df["x"] * 2})
