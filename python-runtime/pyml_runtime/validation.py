"""Validation data stored with a model, and the comparison of outputs with it.

DataFrame models: ``validation/input.parquet`` and ``validation/expected.parquet``. Tensor
models: ``validation/input.npz`` and ``validation/expected.npz`` (read with
``allow_pickle=False``). Comparison is exact for ints, strings, bools and timestamps; floats
match within ``rtol``/``atol`` (NaN equals NaN, nulls equal nulls). The diff names every
differing column or tensor and shows its first differing rows (at most 5), actual vs expected.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pyml_runtime.codec import dataframe_to_table, table_to_dataframe
from pyml_runtime.errors import ErrorKind, PymlError, load_error

VALIDATION_DIR = "validation"
MAX_SHOWN = 5
_SUFFIX = {"dataframe": ".parquet", "tensors": ".npz"}

Tensors = dict[str, np.ndarray]


@dataclass(frozen=True)
class ValidationData:
    input: pd.DataFrame | Tensors
    expected: pd.DataFrame | Tensors


@dataclass(frozen=True)
class BatchingCheck:
    """The build-time proof for `batching = true`: rows one by one == rows together."""

    passed: bool
    rows: int
    diff: str


@dataclass(frozen=True)
class ValidationReport:
    passed: bool
    diff: str
    rows: int
    batching: BatchingCheck | None = None
    """Set when the model opts into batching and its outputs matched."""


def validation_paths(home: Path, kind: str) -> tuple[Path, Path]:
    if kind not in _SUFFIX:
        raise PymlError(ErrorKind.INTERNAL, f"unknown model kind {kind!r}")
    folder = Path(home) / VALIDATION_DIR
    return folder / f"input{_SUFFIX[kind]}", folder / f"expected{_SUFFIX[kind]}"


def has_validation(home: Path, kind: str) -> bool:
    """True when either validation file exists (a half-written pair is an error on load)."""
    return any(path.exists() for path in validation_paths(home, kind))


def load_validation(home: Path, kind: str) -> ValidationData:
    paths = validation_paths(home, kind)
    for path in paths:
        if not path.is_file():
            raise PymlError(
                ErrorKind.NO_VALIDATION_DATA,
                f"no validation data: {path} is missing "
                "(write it with pyml.save_validation(home, input))",
            )
    reader = _read_parquet if kind == "dataframe" else _read_npz
    return ValidationData(input=reader(paths[0]), expected=reader(paths[1]))


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return table_to_dataframe(pq.read_table(path))
    except (pa.ArrowException, OSError, ValueError, PymlError) as exc:
        raise load_error(f"{path}: cannot read validation data: {exc}") from exc


def _read_npz(path: Path) -> Tensors:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise load_error(f"{path}: cannot read validation data: {exc}") from exc


def write_validation(home: Path, kind: str, input: Any, expected: Any) -> None:
    """Write the validation pair for a model of `kind` (what pyml.save_validation calls)."""
    paths = validation_paths(home, kind)
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    writer = _write_parquet if kind == "dataframe" else write_npz
    for path, data in zip(paths, (input, expected), strict=True):
        # Write beside, then rename: a crash never leaves half a file that looks valid.
        partial = path.with_name(path.name + ".partial")
        writer(partial, data)
        os.replace(partial, path)


def _write_parquet(path: Path, df: pd.DataFrame) -> None:
    pq.write_table(dataframe_to_table(df), path)


def write_npz(path: Path, tensors: Mapping[str, Any]) -> None:
    # Not np.savez(path, **tensors): a tensor named 'file' or 'allow_pickle' would clash.
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, value in tensors.items():
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                raise PymlError(
                    ErrorKind.INVALID_INPUT,
                    f"tensor '{name}': dtype {array.dtype} (expected: a numeric or bool dtype)",
                )
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)


# --- comparison ------------------------------------------------------------------------------


def compare_dataframes(
    actual: pd.DataFrame, expected: pd.DataFrame, rtol: float, atol: float
) -> ValidationReport:
    problems = _column_set_problems(list(actual.columns), list(expected.columns), "column")
    if len(actual) != len(expected):
        problems.append(f"rows: {len(actual)} (expected: {len(expected)})")
    else:
        for column in expected.columns:
            if column in actual.columns:
                problems.extend(
                    _column_problems(column, actual[column], expected[column], rtol, atol)
                )
    return ValidationReport(passed=not problems, diff="\n".join(problems), rows=len(expected))


def compare_tensors(
    actual: Mapping[str, np.ndarray], expected: Mapping[str, np.ndarray], rtol: float, atol: float
) -> ValidationReport:
    problems = _column_set_problems(list(actual), list(expected), "tensor")
    for name, want in expected.items():
        if name in actual:
            problems.extend(_tensor_problems(name, np.asarray(actual[name]), want, rtol, atol))
    rows = max((int(a.shape[0]) if a.ndim else 1 for a in expected.values()), default=0)
    return ValidationReport(passed=not problems, diff="\n".join(problems), rows=rows)


def _column_set_problems(actual: list[Any], expected: list[Any], what: str) -> list[str]:
    listed = ", ".join(map(str, expected))
    problems = [
        f"missing {what} '{name}' (expected {what}s: {listed})"
        for name in expected
        if name not in actual
    ]
    problems += [f"unexpected {what} '{name}'" for name in actual if name not in expected]
    return problems


def _column_problems(
    name: Any, actual: pd.Series[Any], expected: pd.Series[Any], rtol: float, atol: float
) -> list[str]:
    problems = []
    if actual.dtype != expected.dtype:
        problems.append(f"column '{name}': dtype {actual.dtype} (expected: {expected.dtype})")
    try:
        differs = _differing_series(actual, expected, rtol, atol)
    except (TypeError, ValueError) as exc:
        return [*problems, f"column '{name}': values cannot be compared: {exc}"]
    rows = np.flatnonzero(differs)
    if len(rows):
        problems.append(_render(f"column '{name}'", len(rows), len(differs), rtol, atol))
        problems += [
            f"  row {row}: actual {_show(actual.iloc[row])}, expected {_show(expected.iloc[row])}"
            for row in rows[:MAX_SHOWN]
        ]
    return problems


def _tensor_problems(
    name: str, actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float
) -> list[str]:
    if actual.dtype != expected.dtype:
        return [f"tensor '{name}': dtype {actual.dtype} (expected: {expected.dtype})"]
    if actual.shape != expected.shape:
        return [f"tensor '{name}': shape {actual.shape} (expected: {expected.shape})"]
    if expected.dtype.kind == "f":
        differs = ~np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=True)
    else:
        differs = np.asarray(actual != expected)
    positions = np.flatnonzero(differs)
    if not len(positions):
        return []
    lines = [_render(f"tensor '{name}'", len(positions), differs.size, rtol, atol)]
    for flat in positions[:MAX_SHOWN]:
        where = tuple(int(i) for i in np.unravel_index(flat, expected.shape))
        lines.append(
            f"  at {where}: actual {_show(actual[where])}, expected {_show(expected[where])}"
        )
    return lines


def _differing_series(
    actual: pd.Series[Any], expected: pd.Series[Any], rtol: float, atol: float
) -> np.ndarray:
    """A bool array: True in the rows where the two columns differ (nulls equal nulls)."""
    if _is_float(actual) or _is_float(expected):
        a, e = _as_float64(actual), _as_float64(expected)
        return np.asarray(~np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True))
    a_null = actual.isna().to_numpy(dtype=bool)
    e_null = expected.isna().to_numpy(dtype=bool)
    a_vals = actual.to_numpy(dtype=object)
    e_vals = expected.to_numpy(dtype=object)
    # Compared one by one, and only where both are set: pd.NA has no truth value.
    unequal = np.array(
        [
            not (a_null[i] or e_null[i]) and not bool(a_vals[i] == e_vals[i])
            for i in range(len(a_vals))
        ],
        dtype=bool,
    )
    return np.asarray((a_null != e_null) | unequal)


def _is_float(series: pd.Series[Any]) -> bool:
    return pd.api.types.is_float_dtype(series.dtype)


def _as_float64(series: pd.Series[Any]) -> np.ndarray:
    # Nullable Float64/Int64 nulls become NaN, which isclose(equal_nan=True) pairs up.
    return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan))


def _show(value: Any) -> str:
    """A cell as people read it: 0.76, not np.float64(0.76); strings quoted."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def _render(what: str, count: int, total: int, rtol: float, atol: float) -> str:
    return f"{what}: {count} of {total} values differ (rtol={rtol:g}, atol={atol:g})"
