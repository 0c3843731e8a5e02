"""The offline job on the host against a real Spark with a Hive metastore."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pyml.model import Model
from pyml_offline.errors import OfflineJobError
from pyml_offline.job import run_job
from pyml_offline.sample_tables import cancer_rows
from pyml_offline.tables import TableName, table_exists, table_properties
from tests.conversion_cases import wanted
from tests.offline.conftest import job_spec, table_rows

PROPERTIES = {"pyml.model.name": "breast_cancer_lr", "pyml.model.version": "7"}


def _run(spark: Any, home: Path, dest: str, **changes: Any) -> Any:
    spec = job_spec(model_home=str(home), dest_table=dest, **changes)
    return run_job(spec, spark, progress="off")


def _exists(spark: Any, table: str) -> bool:
    return table_exists(spark, TableName.parse(table))


def _staging_tables(spark: Any, database: str) -> list[str]:
    names = [row.tableName for row in spark.sql(f"SHOW TABLES IN {database}").collect()]
    return [n for n in names if n.startswith(("pyml_staging_", "pyml_replaced_"))]


def test_predictions_match_the_model_with_keys_first(
    spark: Any, cancer_cells: str, cancer_home: Path
) -> None:
    summary = _run(
        spark,
        cancer_home,
        "cancer.first",
        query=f"SELECT * FROM {cancer_cells}",
        key_columns=("id",),
        properties=PROPERTIES,
    )
    assert (summary.rows_read, summary.rows_predicted) == (569, 569)
    table = spark.table("cancer.first")
    assert table.columns == ["id", "malignant_proba", "malignant"]
    got = pd.DataFrame(table_rows(spark, "cancer.first"))
    rows = cancer_rows()
    expected = Model.from_home(cancer_home).predict(rows.drop(columns="id"))
    assert got["id"].tolist() == rows["id"].tolist()
    # Bit for bit: the same float64 values, not merely close ones.
    assert np.array_equal(got["malignant_proba"].to_numpy(), expected["malignant_proba"].to_numpy())
    assert got["malignant"].tolist() == expected["malignant"].tolist()
    properties = table_properties(spark, TableName.parse("cancer.first"))
    assert properties.items() >= PROPERTIES.items()
    assert _staging_tables(spark, "cancer") == []


def test_existing_destination_is_refused_then_overwritten_then_appended(
    spark: Any, cancer_cells: str, cancer_home: Path
) -> None:
    query = f"SELECT * FROM {cancer_cells} WHERE id < 50"
    _run(spark, cancer_home, "cancer.modes", query=query, key_columns=("id",))
    before = table_rows(spark, "cancer.modes")
    with pytest.raises(OfflineJobError, match=r"cancer\.modes exists.*mode='overwrite'"):
        _run(spark, cancer_home, "cancer.modes", query=query, key_columns=("id",))
    _run(spark, cancer_home, "cancer.modes", query=query, key_columns=("id",), mode="overwrite")
    assert table_rows(spark, "cancer.modes") == before  # a re-run gives the same table
    _run(spark, cancer_home, "cancer.modes", query=query, key_columns=("id",), mode="append")
    assert spark.table("cancer.modes").count() == 100
    assert _staging_tables(spark, "cancer") == []


def test_append_refuses_a_table_with_other_columns(
    spark: Any, cancer_cells: str, cancer_home: Path
) -> None:
    query = f"SELECT * FROM {cancer_cells} WHERE id < 5"
    _run(spark, cancer_home, "cancer.nokeys", query=query)
    with pytest.raises(OfflineJobError, match=r"cannot append to cancer\.nokeys"):
        _run(spark, cancer_home, "cancer.nokeys", query=query, key_columns=("id",), mode="append")
    assert spark.table("cancer.nokeys").columns == ["malignant_proba", "malignant"]


def test_failing_query_is_spark_s_error_and_writes_nothing(
    spark: Any, cancer_cells: str, cancer_home: Path
) -> None:
    with pytest.raises(OfflineJobError, match=r"the query failed: .*no_such_table"):
        _run(spark, cancer_home, "cancer.never", query="SELECT * FROM cancer.no_such_table")
    assert not _exists(spark, "cancer.never")


def test_missing_and_mistyped_columns_are_named_before_any_work(
    spark: Any, cancer_cells: str, cancer_home: Path
) -> None:
    query = (
        f"SELECT * EXCEPT (`mean radius`, `worst area`), CAST(`mean texture` AS STRING) "
        f"AS `mean texture2` FROM {cancer_cells}"
    )
    with pytest.raises(OfflineJobError) as caught:
        _run(spark, cancer_home, "cancer.never", query=query)
    message = str(caught.value)
    assert "missing 'mean radius', 'worst area'" in message
    typed = f"SELECT id, CAST(`mean texture` AS STRING) AS `mean texture` FROM {cancer_cells}"
    with pytest.raises(OfflineJobError) as mistyped:
        _run(spark, cancer_home, "cancer.never", query=typed)
    assert "'mean texture' is string (pandas: str) (expected: float64); in Spark SQL string" in str(
        mistyped.value
    )
    assert not _exists(spark, "cancer.never")


def test_unknown_key_column_is_refused(spark: Any, cancer_cells: str, cancer_home: Path) -> None:
    with pytest.raises(OfflineJobError, match="'patient' not in the query's columns"):
        _run(
            spark,
            cancer_home,
            "cancer.never",
            query=f"SELECT * FROM {cancer_cells}",
            key_columns=("patient",),
        )


@pytest.mark.parametrize(
    ("reader", "writer"), [("auto", "auto"), ("spark", "auto"), ("auto", "spark")]
)
def test_model_raising_fails_the_job_naming_rows_and_keeps_the_destination(
    spark: Any, faulty_home: Path, warehouse: Path, reader: str, writer: str
) -> None:
    xs = pd.DataFrame({"id": np.arange(40, dtype=np.int64), "x": np.arange(40, dtype=np.float64)})
    spark.sql("CREATE DATABASE IF NOT EXISTS faults")
    spark.createDataFrame(xs).write.mode("overwrite").saveAsTable("faults.xs")
    dest = f"faults.out_{reader}_{writer}"
    _run(spark, faulty_home, dest, query="SELECT * FROM faults.xs WHERE x < 10")
    before = sorted(row.y for row in spark.table(dest).collect())
    with pytest.raises(OfflineJobError) as caught:
        # "auto": a plain scan, so the workers read the files; "spark": Spark's reader.
        # "auto": plain output columns, so the workers write the files; "spark": Spark's writer.
        _run(
            spark,
            faulty_home,
            dest,
            query="SELECT * FROM faults.xs",
            key_columns=("id",),
            mode="overwrite",
            reader=reader,
            writer=writer,
        )
    message = str(caught.value)
    assert "model 'faulty' raised ValueError: unlucky 13" in message
    assert "first bad rows: id=13" in message
    # The destination is the earlier run's table, untouched.
    assert spark.table(dest).columns == ["y"]
    assert sorted(row.y for row in spark.table(dest).collect()) == before
    assert len(before) == 10
    assert _staging_tables(spark, "faults") == []
    # Nor any staging folder: the failed tasks' files went with the staging table.
    folders = [path.name for path in (warehouse / "tables" / "faults.db").iterdir()]
    assert not [name for name in folders if name.startswith("pyml_staging_")], folders


def test_hive_session_folders_stay_in_the_warehouse(cancer_cells: str, warehouse: Path) -> None:
    # Spark never closes Hive's session: its resource folder must not land in the host's /tmp.
    [folder] = (warehouse / "tmp").glob("*_resources")
    assert folder.is_dir()


def test_a_hive_table_of_other_types_gives_the_models_own_answer(
    spark: Any, typed_home: Path
) -> None:
    """The conversion rule offline (issue 15): a Hive table has no category, no Int64 and
    ints of its own widths; each column becomes the validated dtype, as online."""
    spark.sql("CREATE DATABASE IF NOT EXISTS typed")
    spark.sql(
        "CREATE TABLE typed.rows (id INT, `count` INT, score BIGINT, city STRING, "
        "visits DOUBLE, seen TIMESTAMP, name STRING, ok BOOLEAN) STORED AS PARQUET"
    )
    spark.sql(
        "INSERT INTO typed.rows VALUES "
        "(0, 4, 1, 'Lyon', 7.0, TIMESTAMP '2024-05-01 10:00:00', 'x', false), "
        "(1, 5, 2, 'Rome', NULL, TIMESTAMP '2024-05-01 11:00:00', 'y', true), "
        "(2, 6, 3, 'Nice', 9.0, TIMESTAMP '2024-05-01 12:00:00', 'z', false)"
    )
    own = Model.from_home(typed_home).predict(wanted())
    queries = {
        "as stored": "SELECT * FROM typed.rows",
        # Other Spark types for the same values: int8, float32, int32 with a null, ISO text
        # without an offset (read as UTC), a whole double for an int, a zone-less timestamp.
        "other widths and text": "SELECT id, CAST(`count` AS TINYINT) AS `count`, "
        "CAST(score AS FLOAT) AS score, city, CAST(visits AS INT) AS visits, "
        "CAST(seen AS STRING) AS seen, name, ok FROM typed.rows",
        "doubles and zone-less times": "SELECT id, CAST(`count` AS DOUBLE) AS `count`, score, "
        "city, visits, CAST(seen AS TIMESTAMP_NTZ) AS seen, name, ok FROM typed.rows",
    }
    for number, (case, query) in enumerate(queries.items()):
        _run(spark, typed_home, f"typed.out{number}", query=query, key_columns=("id",))
        got = pd.DataFrame(table_rows(spark, f"typed.out{number}"))
        assert got["total"].tolist() == own["total"].tolist(), case
        assert got["dtypes"].tolist() == own["dtypes"].tolist(), case

    with pytest.raises(OfflineJobError) as refused:
        _run(
            spark,
            typed_home,
            "typed.never",
            query="SELECT id, `count`, score, id AS city, visits, seen, name, ok FROM typed.rows",
        )
    assert (
        "model 'typed': the query's columns do not fit the model: 'city' is int32 (expected: "
        "dictionary<values=large_string, indices=int8, ordered=0> (pandas: category)); in "
        "Spark SQL int" in str(refused.value)
    )
