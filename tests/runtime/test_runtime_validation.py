"""Validation data files and the output comparison with its diff."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pyml_runtime.errors import ErrorKind, PymlError
from pyml_runtime.validation import (
    compare_dataframes,
    compare_tensors,
    load_validation,
    write_validation,
)

RTOL, ATOL = 1e-6, 1e-9


def expected_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "proba": [0.1, 0.25, np.nan, 0.75, 1.0, 0.5, 0.5],
            "label": pd.array([0, 1, None, 1, 1, 0, 0], dtype="Int64"),
            "name": ["a", "b", None, "d", "e", "f", "g"],
            "when": pd.date_range("2024-01-01", periods=7, tz="UTC"),
        }
    )


def test_identical_frames_pass() -> None:
    report = compare_dataframes(expected_frame(), expected_frame(), RTOL, ATOL)
    assert report.passed, report.diff
    assert (report.diff, report.rows) == ("", 7)


def test_float_within_tolerance_passes() -> None:
    actual = expected_frame()
    actual.loc[1, "proba"] = 0.25 * (1 + 1e-8)
    assert compare_dataframes(actual, expected_frame(), RTOL, ATOL).passed


def test_float_outside_tolerance_names_column_and_row() -> None:
    actual = expected_frame()
    actual.loc[3, "proba"] = 0.76
    report = compare_dataframes(actual, expected_frame(), RTOL, ATOL)
    assert not report.passed
    assert "column 'proba': 1 of 7 values differ" in report.diff
    assert "row 3: actual 0.76, expected 0.75" in report.diff


def test_nan_against_number_differs() -> None:
    actual = expected_frame()
    actual.loc[2, "proba"] = 0.0
    report = compare_dataframes(actual, expected_frame(), RTOL, ATOL)
    assert "row 2: actual 0.0, expected nan" in report.diff


def test_int_mismatch_is_exact_and_shows_at_most_five_rows() -> None:
    actual = expected_frame()
    actual["label"] = pd.array([1, 0, None, 0, 0, 1, 1], dtype="Int64")
    report = compare_dataframes(actual, expected_frame(), RTOL, ATOL)
    assert "column 'label': 6 of 7 values differ" in report.diff
    assert report.diff.count("  row ") == 5
    assert "row 0: actual 1, expected 0" in report.diff


def test_null_against_value_differs_for_strings_and_timestamps() -> None:
    actual = expected_frame()
    actual.loc[0, "name"] = None
    actual.loc[6, "when"] = pd.Timestamp("2030-01-01", tz="UTC")
    report = compare_dataframes(actual, expected_frame(), RTOL, ATOL)
    assert "column 'name': 1 of 7" in report.diff
    assert "column 'when': 1 of 7" in report.diff


def test_missing_and_extra_columns() -> None:
    actual = expected_frame().drop(columns=["name"]).assign(extra=1)
    report = compare_dataframes(actual, expected_frame(), RTOL, ATOL)
    assert "missing column 'name' (expected columns: proba, label, name, when)" in report.diff
    assert "unexpected column 'extra'" in report.diff


def test_dtype_difference_is_reported() -> None:
    actual = expected_frame().astype({"label": "float64"})
    report = compare_dataframes(actual, expected_frame(), RTOL, ATOL)
    assert "column 'label': dtype float64 (expected: Int64)" in report.diff


def test_row_count_difference() -> None:
    report = compare_dataframes(expected_frame().head(5), expected_frame(), RTOL, ATOL)
    assert not report.passed
    assert "rows: 5 (expected: 7)" in report.diff


def test_tensors_compare_dtype_shape_and_values() -> None:
    expected = {"p": np.array([[0.5, 1.0], [2.0, np.nan]]), "n": np.array(3), "b": np.ones(2, bool)}
    same = {k: v.copy() for k, v in expected.items()}
    assert compare_tensors(same, expected, RTOL, ATOL).passed
    assert compare_tensors(same, expected, RTOL, ATOL).rows == 2

    off = {**same, "p": np.array([[0.5, 1.1], [2.0, np.nan]]), "n": np.array(3.0)}
    report = compare_tensors(off, expected, RTOL, ATOL)
    assert "tensor 'p': 1 of 4 values differ" in report.diff
    assert "at (0, 1): actual" in report.diff
    assert "tensor 'n': dtype float64 (expected: int64)" in report.diff

    reshaped = {**same, "p": np.zeros((4,))}
    assert (
        "tensor 'p': shape (4,) (expected: (2, 2))"
        in compare_tensors(reshaped, expected, RTOL, ATOL).diff
    )
    missing = {"p": same["p"], "n": same["n"]}
    assert "missing tensor 'b'" in compare_tensors(missing, expected, RTOL, ATOL).diff


def test_write_then_load_dataframes(tmp_path: Path) -> None:
    write_validation(tmp_path, "dataframe", expected_frame(), expected_frame().head(3))
    data = load_validation(tmp_path, "dataframe")
    assert isinstance(data.input, pd.DataFrame)
    assert isinstance(data.expected, pd.DataFrame)
    pd.testing.assert_frame_equal(data.input, expected_frame())
    assert len(data.expected) == 3


def test_write_then_load_tensors_even_with_awkward_names(tmp_path: Path) -> None:
    tensors = {"file": np.arange(3), "allow_pickle": np.array(1.5, np.float32)}
    write_validation(tmp_path, "tensors", tensors, {"out": np.zeros((2, 2), bool)})
    data = load_validation(tmp_path, "tensors")
    assert isinstance(data.input, dict)
    assert data.input["allow_pickle"].dtype == np.float32
    assert data.input["allow_pickle"].shape == ()
    np.testing.assert_array_equal(data.input["file"], np.arange(3))


def test_missing_validation_data_is_named(tmp_path: Path) -> None:
    with pytest.raises(PymlError, match=r"validation/input\.npz is missing") as caught:
        load_validation(tmp_path, "tensors")
    assert caught.value.kind is ErrorKind.NO_VALIDATION_DATA
