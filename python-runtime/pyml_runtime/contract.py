"""The model contract: what a data scientist's `model.py` implements.

It lives in the runtime, the lowest layer, which needs it to find and load a model class; the
SDK re-exports these very classes as `pyml.DataFrameModel` and `pyml.TensorModel`.

A home folder's `model.py` holds exactly one class deriving from one of these:

    from pyml import DataFrameModel

    class BreastCancer(DataFrameModel):
        def __init__(self, home: str):
            self.clf = joblib.load(f"{home}/model.joblib")

        def predict(self, df: pd.DataFrame) -> pd.DataFrame:
            return pd.DataFrame({"malignant_proba": self.clf.predict_proba(df)[:, 1]})

The model never knows where it runs: in a notebook, behind the gateway or in a Spark job
it gets the same inputs and must give the same outputs.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, ClassVar, Literal

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

ModelKind = Literal["dataframe", "tensors"]


class DataFrameModel(abc.ABC):
    """A model that takes a pandas DataFrame and returns a pandas DataFrame."""

    kind: ClassVar[ModelKind] = "dataframe"

    @abc.abstractmethod
    def __init__(self, home: str) -> None:
        """Load artifacts from the home folder (its absolute path)."""

    @abc.abstractmethod
    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        """Return one output row per input row."""


class TensorModel(abc.ABC):
    """A model that takes named numpy arrays and returns named numpy arrays."""

    kind: ClassVar[ModelKind] = "tensors"

    @abc.abstractmethod
    def __init__(self, home: str) -> None:
        """Load artifacts from the home folder (its absolute path)."""

    @abc.abstractmethod
    def predict(self, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Return named output arrays."""


ContractClass = type[DataFrameModel] | type[TensorModel]
