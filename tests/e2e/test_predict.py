"""Predictions through the real gateway and real runtime processes equal in-process ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt

import pyml
from pyml.client import Client


def test_dataframe_model_answers_like_in_process(
    deployed: Client, cancer_home: Path, cancer_rows: pd.DataFrame
) -> None:
    rows = cancer_rows.sample(200, random_state=1).reset_index(drop=True)

    online = deployed.predict("breast_cancer_lr", rows)

    local = pyml.Model.from_home(cancer_home).predict(rows)
    assert isinstance(online, pd.DataFrame)
    assert list(online.columns) == ["malignant_proba", "malignant"]
    pdt.assert_frame_equal(online, local, check_exact=True)


def test_tensor_model_answers_like_in_process(deployed: Client, tensor_home: Path) -> None:
    x = np.random.default_rng(3).normal(size=(50, 4)).astype(np.float32)

    online = deployed.predict("softmax_tensor", {"x": x})

    local = pyml.Model.from_home(tensor_home).predict({"x": x})
    assert isinstance(online, dict) and isinstance(local, dict)
    assert set(online) == {"probabilities", "label", "rows"}
    for name, array in local.items():
        assert online[name].dtype == array.dtype, name
        assert online[name].shape == array.shape, name
        np.testing.assert_array_equal(online[name], array)
    assert online["rows"].shape == ()  # a 0-d tensor survives the trip
    assert int(online["rows"]) == 50


def test_a_single_row_and_a_named_version(deployed: Client, cancer_rows: pd.DataFrame) -> None:
    online = deployed.predict("breast_cancer_lr", cancer_rows.head(1), version=0)

    assert isinstance(online, pd.DataFrame)
    assert len(online) == 1


def test_deployments_are_listed_ready(deployed: Client) -> None:
    states = {d.model_name: (d.state, d.kind) for d in deployed.deployments()}

    assert states["breast_cancer_lr"] == ("READY", "dataframe")
    assert states["softmax_tensor"] == ("READY", "tensors")
