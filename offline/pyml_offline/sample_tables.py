"""The example's source table: sklearn's bundled breast cancer data as `cancer.cells`.

create_cancer_table(spark)                  # 569 rows, an `id` key and the 30 features
create_cancer_table(spark, rows=100_000)    # resampled with noise (parity, benchmarks)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pyml_offline.tables import TableName

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

NOISE = 0.05  # relative: resampled rows stay plausible cells, yet no two are equal
FILE_ROWS = 100_000  # rows a source file: ~25 MB of the 31 columns


def cancer_rows(rows: int | None = None, seed: int = 0) -> pd.DataFrame:
    """The dataset's features with an `id` column first; `rows` resamples it with noise."""
    from sklearn.datasets import load_breast_cancer

    features = load_breast_cancer(as_frame=True).data
    if rows is not None:
        rng = np.random.default_rng(seed)
        picked = features.iloc[rng.integers(0, len(features), rows)].reset_index(drop=True)
        noise = rng.normal(1.0, NOISE, size=picked.shape)
        features = picked * noise
    table = pd.DataFrame(features.astype("float64").reset_index(drop=True))
    table.insert(0, "id", np.arange(len(table), dtype=np.int64))
    return table


def create_cancer_table(
    spark: SparkSession, table: str = "cancer.cells", rows: int | None = None, seed: int = 0
) -> int:
    """(Re)create `table` in the session's warehouse; returns its row count."""
    name = TableName.parse(table)
    data = cancer_rows(rows, seed)
    spark.sql(f"CREATE DATABASE IF NOT EXISTS `{name.database}`")
    with tempfile.TemporaryDirectory(prefix="pyml-sample-") as scratch:
        # Parquet files written by pyarrow, then read by Spark: `createDataFrame(pandas)`
        # ships the rows inside its tasks (minutes for a million rows) and writes one small
        # file per 10,000 rows, which later scans pay for with a file open each.
        arrow = pa.Table.from_pandas(data, preserve_index=False)
        for start in range(0, max(len(data), 1), FILE_ROWS):
            pq.write_table(arrow.slice(start, FILE_ROWS), f"{scratch}/part-{start:012d}.parquet")
        frame = spark.read.parquet(scratch)
        # Files of FILE_ROWS here too (one row group each, which a scan cannot split): the
        # job's scans get evenly sized tasks for every core.
        writer = (
            frame.write.mode("overwrite").format("parquet").option("maxRecordsPerFile", FILE_ROWS)
        )
        writer.saveAsTable(f"{name.database}.{name.table}")
    return len(data)


def create_in_warehouse(
    table: str = "cancer.cells",
    rows: int | None = None,
    seed: int = 0,
    warehouse: Path | None = None,
) -> int:
    """Create the table in PyML's embedded warehouse from this process (then stop Spark).

    Derby lets one JVM at a time open the metastore, and a JVM outlives `spark.stop()`: call
    this from a process that starts no containerized job afterwards (the CLI and tests run
    `python -m pyml_offline.sample_tables` for that reason).
    """
    from pyml_offline.session import open_warehouse

    spark = open_warehouse(warehouse)
    try:
        return create_cancer_table(spark, table, rows, seed)
    finally:
        spark.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create the example's source table.")
    parser.add_argument("--table", default="cancer.cells")
    parser.add_argument("--rows", type=int, default=None, help="resample to N rows with noise")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warehouse", type=Path, default=None)
    args = parser.parse_args(argv)
    count = create_in_warehouse(args.table, args.rows, args.seed, args.warehouse)
    print(f"{args.table}: {count} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
