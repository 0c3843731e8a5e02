"""`python -m tests.offline.read_table WAREHOUSE OUT_DIR TABLE...`: tables and their properties,
read by the host's pyspark in its own process (the way a user opens what a containerized job
wrote; Derby lets one JVM at a time open the metastore)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow.parquet as pq

from pyml_offline.session import open_warehouse
from pyml_offline.tables import TableName, table_properties


def main(warehouse: str, out_dir: str, tables: list[str]) -> None:
    spark = open_warehouse(Path(warehouse))
    try:
        for table in tables:
            arrow = spark.table(table).toArrow()  # the stored values, no pandas in between
            pq.write_table(arrow, Path(out_dir) / f"{table}.parquet")
            properties = table_properties(spark, TableName.parse(table))
            (Path(out_dir) / f"{table}.json").write_text(json.dumps(properties))
    finally:
        spark.stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
