"""Reading model inputs from files and showing or writing outputs (the CLI's I/O)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from pyml._internal.payloads import ModelInput, ModelOutput
from pyml_runtime.validation import write_npz


def read_input(path: Path) -> ModelInput:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as arrays:
            return {name: arrays[name] for name in arrays.files}
    raise ValueError(f"{path}: expected a .parquet, .csv or .npz file, got '{suffix}'")


def write_output(result: ModelOutput, path: Path) -> None:
    if isinstance(result, pd.DataFrame):
        result.to_parquet(path)
    else:
        write_npz(path, result)


def show_output(console: Console, result: ModelOutput, max_rows: int = 20) -> None:
    if isinstance(result, pd.DataFrame):
        table = Table(*map(str, result.columns))
        for row in result.head(max_rows).itertuples(index=False):
            table.add_row(*(str(v) for v in row))
        console.print(table)
        if len(result) > max_rows:
            console.print(f"… {len(result) - max_rows} more rows")
        return
    for name, array in result.items():
        console.print(f"[bold]{name}[/bold] {array.dtype} {array.shape}\n{array}")
