"""A Hive table from a DataFrame or a Parquet or CSV file, in PyML's embedded warehouse (or a
session's): the source rows of an offline job, in one line.

    pyml table import rows.csv --table shop.visits [--mode overwrite|append]
    pyml.import_table(df, "shop.visits")                      # a DataFrame, or a file's path

A CSV file is read by Arrow's CSV reader, which keeps what pandas' would change: ints with a
blank cell stay ints (with a missing value), ISO-8601 times become timestamps. Columns keep
their names; a category becomes a Hive string (the conversion rule gives it back to a model
that was validated with a category). Derby lets one JVM at a time open the embedded
metastore, so `import_table` runs this module in a process of its own.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from pyml_offline.errors import OfflineJobError
from pyml_offline.spec import WRITE_MODES, WriteMode
from pyml_offline.tables import TableName, table_exists

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import SparkSession

# The child process's lines that carry its outcome (Spark may log around them).
DONE_MARKER = "PYML_IMPORTED "
ERROR_MARKER = "PYML_IMPORT_ERROR "


def import_file(spark: SparkSession, source: Path, table: str, mode: WriteMode = "error") -> int:
    """Write the rows of a .parquet or .csv file into `table` ("db.table"); the row count."""
    name = TableName.parse(table)
    if mode not in WRITE_MODES:
        raise OfflineJobError(f"mode {mode!r}: expected one of {', '.join(WRITE_MODES)}")
    rows = _read(source)
    spark.sql(f"CREATE DATABASE IF NOT EXISTS `{name.database}`")
    if mode == "error" and table_exists(spark, name):
        raise OfflineJobError(
            f"table {name.database}.{name.table} exists: pass mode='overwrite' to replace it "
            "or mode='append' to add rows"
        )
    with tempfile.TemporaryDirectory(prefix="pyml-import-") as scratch:
        # Parquet written by pyarrow, then read by Spark: no rows shipped inside Spark tasks.
        pq.write_table(rows, f"{scratch}/part-0.parquet")
        frame = spark.read.parquet(scratch)
        frame.write.mode(mode).format("parquet").saveAsTable(f"{name.database}.{name.table}")
    return int(rows.num_rows)


def _read(source: Path) -> pa.Table:
    if not source.is_file():
        raise OfflineJobError(f"{source}: no such file")
    suffix = source.suffix.lower()
    try:
        if suffix == ".parquet":
            return pq.read_table(source)
        if suffix == ".csv":
            return pa_csv.read_csv(source)
    except (pa.ArrowInvalid, OSError) as exc:
        raise OfflineJobError(f"{source}: cannot read it as {suffix[1:]}: {exc}") from None
    raise OfflineJobError(f"{source}: expected a .parquet or .csv file, got '{suffix}'")


def import_table(
    data: pd.DataFrame | str | Path,
    table: str,
    mode: WriteMode = "error",
    warehouse: Path | None = None,
) -> int:
    """`import_file` from this process: a DataFrame or a file's rows into `table` in the
    embedded warehouse ($PYML_HOME/warehouse); the row count."""
    TableName.parse(table)  # a bad name is refused before Spark starts
    with tempfile.TemporaryDirectory(prefix="pyml-import-") as scratch:
        if isinstance(data, str | Path):
            source = Path(data)
        else:
            source = Path(scratch) / "rows.parquet"
            pq.write_table(pa.Table.from_pandas(data, preserve_index=False), source)
        argv = [sys.executable, "-m", "pyml_offline.table_import", str(source), "--table", table]
        argv += ["--mode", mode] + (["--warehouse", str(warehouse)] if warehouse else [])
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
    said = (done.stdout + "\n" + done.stderr).splitlines()
    for line in said:
        if line.startswith(DONE_MARKER) and done.returncode == 0:
            return int(line.removeprefix(DONE_MARKER))
        if line.startswith(ERROR_MARKER):
            raise OfflineJobError(line.removeprefix(ERROR_MARKER))
    last = said[-1] if said else ""
    raise OfflineJobError(f"the table import exited with {done.returncode}: {last}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A Hive table from a .parquet or .csv file.")
    parser.add_argument("source", type=Path)
    parser.add_argument("--table", required=True)
    parser.add_argument("--mode", default="error", choices=WRITE_MODES)
    parser.add_argument("--warehouse", type=Path, default=None)
    args = parser.parse_args(argv)
    from pyml_offline.session import open_warehouse

    spark = open_warehouse(args.warehouse)
    spark.sparkContext.setLogLevel("ERROR")
    try:
        count = import_file(spark, args.source, args.table, args.mode)
    except OfflineJobError as error:
        print(f"{ERROR_MARKER}{error}", flush=True)
        return 1
    finally:
        spark.stop()
    print(f"{DONE_MARKER}{count}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
