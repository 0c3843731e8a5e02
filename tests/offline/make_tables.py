"""`python -m tests.offline.make_tables WAREHOUSE HOME ROWS`: the source tables of the
in-image tests, made by the host's pyspark in its own process (Derby: one JVM at a time).

- cancer.cells: the example table (`create_cancer_table`)
- parity.rows: the model's validation input (part "validation") and ROWS resampled noisy
  rows (part "noisy"), keyed by (part, id)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pyml_offline.sample_tables import cancer_rows, create_cancer_table
from pyml_offline.session import open_warehouse
from pyml_runtime.validation import load_validation


def parity_rows(home: Path, rows: int) -> pd.DataFrame:
    validation = load_validation(home, "dataframe").input
    assert isinstance(validation, pd.DataFrame)
    first = validation.reset_index(drop=True).copy()
    first.insert(0, "id", np.arange(len(first), dtype=np.int64))
    first.insert(0, "part", "validation")
    noisy = cancer_rows(rows, seed=1)
    noisy.insert(0, "part", "noisy")
    return pd.concat([first, noisy], ignore_index=True)


def main(warehouse: str, home: str, rows: str) -> None:
    spark = open_warehouse(Path(warehouse))
    try:
        create_cancer_table(spark, "cancer.cells")
        spark.sql("CREATE DATABASE IF NOT EXISTS parity")
        frame = spark.createDataFrame(parity_rows(Path(home), int(rows)))
        frame.write.mode("overwrite").format("parquet").saveAsTable("parity.rows")
    finally:
        spark.stop()


if __name__ == "__main__":
    main(*sys.argv[1:4])
