"""`python -m tests.offline.read_table WAREHOUSE TABLE OUT_DIR`: a table and its properties,
read by the host's pyspark in its own process (the way a user opens what a containerized job
wrote; Derby lets one JVM at a time open the metastore)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow.parquet as pq

from pyml_offline.session import open_warehouse
from pyml_offline.tables import TableName, table_properties


def main(warehouse: str, table: str, out_dir: str) -> None:
    spark = open_warehouse(Path(warehouse))
    try:
        frame = spark.table(table)
        arrow = frame.toArrow()  # the stored values, no pandas conversion in between
        pq.write_table(arrow, Path(out_dir) / "table.parquet")
        properties = table_properties(spark, TableName.parse(table))
        (Path(out_dir) / "properties.json").write_text(json.dumps(properties))
    finally:
        spark.stop()


if __name__ == "__main__":
    main(*sys.argv[1:4])
