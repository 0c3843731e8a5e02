"""A model of the pandas dtypes that callers cannot all express (the conversion rule's
end-to-end tests): it answers a number made from every column, and the dtypes it was given."""

import pandas as pd

from pyml import DataFrameModel


class Typed(DataFrameModel):
    def __init__(self, home: str):
        self.home = home

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        total = (
            df["count"].astype("float64")
            + df["score"]
            + df["city"].cat.codes.astype("float64")
            + df["visits"].astype("Float64").fillna(-1.0).astype("float64")
            + df["seen"].dt.hour.astype("float64")
            + df["name"].str.len().astype("float64")
            + df["ok"].astype("float64")
        )
        dtypes = ",".join(str(dtype) for dtype in df.dtypes)
        return pd.DataFrame({"total": total, "dtypes": [dtypes] * len(df)})
