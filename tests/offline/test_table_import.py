"""Hive tables from a DataFrame or a Parquet/CSV file (issue 15): `pyml table import` and
`pyml.import_table`, the source rows of an offline job in one line."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pyml_offline.errors import OfflineJobError
from pyml_offline.table_import import import_file
from tests.cli import run_pyml

CSV = (
    "id,visits,city,seen\n"
    "1,7,Lyon,2024-05-01T10:00:00Z\n"
    "2,,Rome,2024-05-01T11:00:00Z\n"  # a blank cell: the int column keeps ints, one missing
    "3,9,Nice,2024-05-01T12:00:00Z\n"
)


def test_a_csv_becomes_a_table_with_its_types_kept(spark: Any, tmp_path: Path) -> None:
    source = tmp_path / "visits.csv"
    source.write_text(CSV)
    assert import_file(spark, source, "imported.visits") == 3
    table = spark.table("imported.visits")
    assert [(f.name, f.dataType.simpleString()) for f in table.schema.fields] == [
        ("id", "bigint"),
        ("visits", "bigint"),
        ("city", "string"),
        ("seen", "timestamp"),
    ]
    rows = [r.asDict() for r in table.orderBy("id").collect()]
    assert [r["visits"] for r in rows] == [7, None, 9]
    assert [r["city"] for r in rows] == ["Lyon", "Rome", "Nice"]


def test_an_existing_table_is_refused_then_replaced_or_added_to(spark: Any, tmp_path: Path) -> None:
    source = tmp_path / "rows.parquet"
    pd.DataFrame({"id": [1, 2], "x": [0.5, 1.5]}).to_parquet(source)
    assert import_file(spark, source, "imported.modes") == 2
    with pytest.raises(OfflineJobError, match=r"imported\.modes exists: pass mode='overwrite'"):
        import_file(spark, source, "imported.modes")
    import_file(spark, source, "imported.modes", "overwrite")
    assert spark.table("imported.modes").count() == 2
    import_file(spark, source, "imported.modes", "append")
    assert spark.table("imported.modes").count() == 4


def test_the_cli_imports_a_file_in_one_line_and_speaks_cli_on_refusal(tmp_path: Path) -> None:
    source = tmp_path / "visits.csv"
    source.write_text(CSV)
    env = {"PYML_HOME": str(tmp_path / "home")}

    def pyml(*args: str) -> subprocess.CompletedProcess[str]:
        return run_pyml("table", "import", str(source), *args, env=env, timeout=240)

    done = pyml("--table", "shop.visits")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "✓ shop.visits: 3 rows" in done.stdout
    again = pyml("--table", "shop.visits")
    assert again.returncode == 1
    assert "✗ table shop.visits exists: pass --mode overwrite to replace it or --mode append" in (
        again.stdout
    )


def test_pyspark_pandas_conversions_warn_nothing_at_a_person(spark: Any) -> None:
    """Issue 15: pandas 3 deprecation warnings from inside PySpark's conversions reached
    every reader of a job's output (the filters live where PyML opens Spark)."""
    import importlib
    import warnings

    import pyml_offline.session

    with warnings.catch_warnings(record=True) as caught:
        # Python's own filters (pytest turns DeprecationWarning on), then PyML's, as a script
        # that imports pyml_offline has them.
        warnings.resetwarnings()
        warnings.simplefilter("default")
        importlib.reload(pyml_offline.session)
        spark.createDataFrame(pd.DataFrame({"a": [1, 2]})).toPandas()
    assert [str(w.message) for w in caught if "pandas" in str(w.message).lower()] == []
