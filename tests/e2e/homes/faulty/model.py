"""A model that misbehaves on purpose, on chosen inputs (end-to-end fault tests).

x == 13 raises; x == -1 exits the runtime mid-request; x == -2 sleeps 4 s (past a short
deadline); x == -3 allocates 1 GiB (past a small container memory limit).
"""

import os
import time

import pandas as pd

from pyml import DataFrameModel

SLEEP_SECONDS = 4.0


class Faulty(DataFrameModel):
    def __init__(self, home: str):
        self.home = home

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        if (df["x"] == 13).any():
            raise ValueError("unlucky 13")
        if (df["x"] == -1).any():
            os._exit(3)  # the runtime process dies mid-request
        if (df["x"] == -2).any():
            time.sleep(SLEEP_SECONDS)
        if (df["x"] == -3).any():
            hog = "x" * (1 << 30)  # every page written: the memory limit is really hit
            return pd.DataFrame({"y": df["x"] * len(hog)})
        return pd.DataFrame({"y": df["x"] * 2})
