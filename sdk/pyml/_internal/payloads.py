"""DataFrame / named tensors ⇄ Arrow payload bytes, keyed by the model kind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

import numpy as np
import pandas as pd

from pyml.contract import ModelKind
from pyml_runtime import codec

ModelInput: TypeAlias = pd.DataFrame | Mapping[str, np.ndarray]
ModelOutput: TypeAlias = pd.DataFrame | dict[str, np.ndarray]


def kind_of(data: ModelInput) -> ModelKind:
    """The payload kind a value travels as: "dataframe" or "tensors"."""
    if isinstance(data, pd.DataFrame):
        return "dataframe"
    if isinstance(data, Mapping):
        return "tensors"
    raise TypeError(
        f"expected a pandas DataFrame or a dict of numpy arrays, got {type(data).__name__}"
    )


def encode_payload(kind: ModelKind, data: ModelInput) -> bytes:
    if kind == "dataframe":
        if not isinstance(data, pd.DataFrame):
            raise TypeError(
                f"a DataFrame model takes a pandas DataFrame, got {type(data).__name__}"
            )
        return codec.encode_dataframe(data)
    if not isinstance(data, Mapping):
        raise TypeError(f"a Tensor model takes a dict of numpy arrays, got {type(data).__name__}")
    return codec.encode_tensors(data)


def decode_payload(kind: ModelKind, data: bytes) -> ModelOutput:
    return codec.decode_dataframe(data) if kind == "dataframe" else codec.decode_tensors(data)
