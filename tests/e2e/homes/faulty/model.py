"""A model that misbehaves on purpose, on chosen inputs (end-to-end fault tests).

x == 13 raises; x == -1 exits the runtime mid-request; x == -2 sleeps 4 s (past a short
deadline); x == -3 allocates 1 GiB (past a small container memory limit); x == -4 holds the
call until a file `release` appears in the runtime's socket folder (at most 60 s): a test
decides when an in-flight call ends, without guessing durations; x == -5 never returns (a
predict stuck in model code: only killing the runtime ends it); x == -6 answers the process id
of the runtime worker that ran it (which worker served a call); x == -7 answers the size of
the OpenBLAS pool its worker was given (OPENBLAS_NUM_THREADS, 0 when unset).
"""

import os
import time

import pandas as pd

from pyml import DataFrameModel

SLEEP_SECONDS = 4.0
HOLD_SECONDS = 60.0
# The socket folder is the one place a container shares with the host (a bind mount).
RELEASE_FILE = "/run/pyml/release"


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
        if (df["x"] == -5).any():
            while True:
                time.sleep(1)
        if (df["x"] == -4).any():
            deadline = time.monotonic() + HOLD_SECONDS
            while not os.path.exists(RELEASE_FILE) and time.monotonic() < deadline:
                time.sleep(0.05)
        if (df["x"] == -6).any():
            return pd.DataFrame({"y": df["x"] * 0 + os.getpid()})
        if (df["x"] == -7).any():
            return pd.DataFrame({"y": df["x"] * 0 + int(os.environ.get("OPENBLAS_NUM_THREADS", 0))})
        if (df["x"] == -3).any():
            hog = "x" * (1 << 30)  # every page written: the memory limit is really hit
            return pd.DataFrame({"y": df["x"] * len(hog)})
        return pd.DataFrame({"y": df["x"] * 2})
