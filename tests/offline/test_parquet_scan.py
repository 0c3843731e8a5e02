"""Plain Parquet scans read by the Python workers: when they are taken, and that they give the
very table Spark's own reader gives (real Spark, real Hive metastore, real files)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pyml_offline.job import run_job
from pyml_offline.parquet_scan import ParquetScan, SparkScan, file_groups, plan_scan
from pyml_offline.spec import JobSpec
from tests.offline.conftest import job_spec, table_rows

WORKERS = "Parquet files read by the Python workers"


def _scan(spark: Any, query: str, *columns: str) -> ParquetScan | SparkScan:
    frame = spark.sql(query)
    if columns:
        frame = frame.select(*[f"`{column}`" for column in columns])
    return plan_scan(spark, frame, batch_rows=100)


def _run(spark: Any, home: Path, query: str, dest: str, **changes: Any) -> Any:
    spec = job_spec(model_home=str(home), query=query, dest_table=dest, **changes)
    return run_job(spec, spark, progress="off")


def test_a_plain_scan_gives_bit_for_bit_the_table_spark_s_reader_gives(
    spark: Any, cancer_cells: str, cancer_home: Path
) -> None:
    query = f"SELECT * FROM {cancer_cells}"
    direct = _run(spark, cancer_home, query, "cancer.direct", key_columns=("id",))
    spark_read = _run(
        spark, cancer_home, query, "cancer.spark_read", key_columns=("id",), reader="spark"
    )
    assert direct.reader.startswith(WORKERS)
    assert spark_read.reader == "Spark's reader (asked for)"
    assert (direct.rows_read, direct.rows_predicted) == (569, 569)
    got = pd.DataFrame(table_rows(spark, "cancer.direct"))
    want = pd.DataFrame(table_rows(spark, "cancer.spark_read"))
    assert list(got.columns) == ["id", "malignant_proba", "malignant"]
    assert len(got) == 569
    for column in got.columns:  # the same bits, not merely close values
        assert np.array_equal(got[column].to_numpy(), want[column].to_numpy()), column


def test_renamed_and_reordered_columns_are_read_from_their_own_file_columns(
    spark: Any, cancer_cells: str, cancer_home: Path
) -> None:
    query = f"SELECT `mean radius` AS size, id AS patient, * EXCEPT (id) FROM {cancer_cells}"
    scan = _scan(spark, query, "patient", "size")
    assert isinstance(scan, ParquetScan), scan
    assert scan.sources == ("id", "mean radius")
    assert scan.schema.names == ["patient", "size"]
    summary = _run(spark, cancer_home, query, "cancer.renamed", key_columns=("patient", "size"))
    assert summary.reader.startswith(WORKERS)
    rows = spark.table("cancer.renamed").orderBy("patient").toPandas()
    source = spark.table(cancer_cells).orderBy("id").toPandas()
    assert rows["patient"].tolist() == source["id"].tolist()
    assert np.array_equal(rows["size"].to_numpy(), source["mean radius"].to_numpy())


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("SELECT * FROM cancer.cells WHERE id < 10", "the query's plan has a Filter step"),
        ("SELECT * FROM cancer.cells LIMIT 3", "the query's plan has a GlobalLimit step"),
        ("SELECT id, `mean radius` * 2 AS r FROM cancer.cells", "the query computes column 'r'"),
        ("SELECT a.* FROM cancer.cells a JOIN cancer.cells b USING (id)", "has a Join step"),
        ("SELECT * FROM scans.partitioned", "the table is partitioned"),
        ("SELECT * FROM scans.text", "the table is not Parquet files"),
        ("SELECT * FROM scans.dated", "column 'day' is date"),
        ("SELECT * FROM scans.stamped", "column 'at' is timestamp"),
        ("SELECT * FROM scans.empty", "the table has no files"),
        ("SELECT * FROM scans.lenient", "the table sets ignoreCorruptFiles"),
    ],
)
def test_anything_but_a_plain_parquet_scan_is_spark_s_and_says_why(
    spark: Any, cancer_cells: str, scan_tables: None, query: str, reason: str
) -> None:
    scan = _scan(spark, query)
    assert isinstance(scan, SparkScan)
    assert reason in scan.reason


def test_a_file_whose_type_differs_from_the_table_s_is_spark_s(
    spark: Any, scan_tables: None, tmp_path: Path
) -> None:
    # The metastore says bigint; one file holds int32 (Spark widens it when it reads).
    import pyarrow.parquet as pq

    [location] = [
        row.data_type
        for row in spark.sql("DESCRIBE FORMATTED scans.widened").collect()
        if row.col_name == "Location"
    ]
    folder = Path(location.removeprefix("file:"))
    pq.write_table(pa.table({"n": pa.array([7], pa.int32())}), folder / "narrow.parquet")
    spark.sql("REFRESH TABLE scans.widened")
    scan = _scan(spark, "SELECT * FROM scans.widened")
    assert isinstance(scan, SparkScan)
    assert "column 'n' is int32" in scan.reason and "(Spark gives int64)" in scan.reason


def test_files_spark_would_skip_or_read_otherwise_are_handled_like_spark(
    spark: Any, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    folder = tmp_path / "a folder with 100% spaces"  # inputFiles() are percent-encoded
    folder.mkdir()
    pq.write_table(pa.table({"n": pa.array([1, 2], pa.int64())}), folder / "good.parquet")
    (folder / "empty.parquet").write_bytes(b"")  # Spark's scan skips empty files
    spark.sql("DROP TABLE IF EXISTS scans.outside")
    spark.sql(f"CREATE TABLE scans.outside (n BIGINT) USING parquet LOCATION '{folder}'")
    scan = _scan(spark, "SELECT * FROM scans.outside")
    assert isinstance(scan, ParquetScan), scan
    assert scan.files == (str(folder / "good.parquet"),)
    # A name twice but for case: Spark refuses it, so the direct read must not pick one.
    table = pa.table({"n": pa.array([3], pa.int64()), "N": pa.array([9], pa.int64())})
    pq.write_table(table, folder / "twice.parquet")
    spark.sql("REFRESH TABLE scans.outside")
    scan = _scan(spark, "SELECT * FROM scans.outside")
    assert isinstance(scan, SparkScan)
    assert "several columns named 'n' but for case" in scan.reason
    # Not Parquet at all: pyarrow cannot read it, Spark says why when it reads.
    (folder / "twice.parquet").write_bytes(b"not parquet")
    spark.sql("REFRESH TABLE scans.outside")
    scan = _scan(spark, "SELECT * FROM scans.outside")
    assert isinstance(scan, SparkScan)
    assert "is not readable by pyarrow" in scan.reason


@pytest.mark.parametrize(
    "setting", ["spark.sql.files.ignoreCorruptFiles", "spark.sql.parquet.fieldId.read.enabled"]
)
def test_reader_settings_a_direct_read_would_ignore_make_it_spark_s(
    spark: Any, cancer_cells: str, setting: str
) -> None:
    spark.conf.set(setting, "true")
    try:
        scan = _scan(spark, f"SELECT * FROM {cancer_cells}")
    finally:
        spark.conf.unset(setting)
    assert isinstance(scan, SparkScan)
    assert scan.reason == f"{setting} is set"
    assert isinstance(_scan(spark, f"SELECT * FROM {cancer_cells}"), ParquetScan)


def test_files_are_grouped_into_tasks_of_similar_size_at_least_one_a_core(
    spark: Any, tmp_path: Path
) -> None:
    sizes = {"a": 900, "b": 500, "c": 400, "d": 100, "e": 100}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    files = tuple(str(tmp_path / name) for name in sizes)
    groups = file_groups(spark, files)  # 2 cores, 2,000 bytes: under one split
    assert len(groups) == 2
    assert sorted(path for group in groups for path in group) == sorted(files)
    loads = sorted(sum(sizes[Path(p).name] for p in group) for group in groups)
    assert loads == [1000, 1000]
    assert file_groups(spark, files[:1]) == [files[:1]]  # never more tasks than files


@pytest.fixture(scope="module")
def scan_tables(spark: Any) -> None:
    spark.sql("CREATE DATABASE IF NOT EXISTS scans")
    numbers = spark.createDataFrame(pd.DataFrame({"n": np.arange(4, dtype=np.int64)}))
    numbers.write.mode("overwrite").format("parquet").saveAsTable("scans.widened")
    parted = pd.DataFrame({"n": np.arange(4, dtype=np.int64), "p": [0, 0, 1, 1]})
    writer = spark.createDataFrame(parted).write.mode("overwrite").format("parquet")
    writer.partitionBy("p").saveAsTable("scans.partitioned")
    spark.sql("DROP TABLE IF EXISTS scans.text")
    spark.sql("CREATE TABLE scans.text (n BIGINT) STORED AS TEXTFILE")
    spark.sql("INSERT INTO scans.text VALUES (1)")
    spark.sql("DROP TABLE IF EXISTS scans.dated")
    spark.sql("CREATE TABLE scans.dated USING parquet AS SELECT DATE'2026-11-27' AS day")
    spark.sql("DROP TABLE IF EXISTS scans.stamped")
    spark.sql("CREATE TABLE scans.stamped USING parquet AS SELECT TIMESTAMP'2026-11-27' AS at")
    spark.sql("DROP TABLE IF EXISTS scans.lenient")
    spark.sql(
        "CREATE TABLE scans.lenient USING parquet OPTIONS (ignoreCorruptFiles 'true') "
        "AS SELECT 1L AS n"
    )
    spark.sql("DROP TABLE IF EXISTS scans.empty")
    spark.sql("CREATE TABLE scans.empty (n BIGINT) USING parquet")


def test_the_reader_crosses_into_the_container_and_only_known_ones_are_taken() -> None:
    spec = job_spec(reader="spark")
    assert JobSpec.from_json(spec.to_json()).reader == "spark"
    assert JobSpec.from_json(job_spec().to_json()).reader == "auto"
    with pytest.raises(ValueError, match=r"reader 'pyarrow': expected one of auto, spark"):
        job_spec(reader="pyarrow")
