"""Prediction files written by the Python workers: when they are, and that the table holds
the very rows, types and bits Spark's own writer gives (real Spark, real Hive metastore)."""

from __future__ import annotations

import struct
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pyml
from pyml_offline.job import run_job
from pyml_offline.parquet_write import (
    ATTEMPTS,
    WRITTEN,
    ParquetWrite,
    SparkWrite,
    plan_write,
    write_table_files,
)
from pyml_offline.spec import JobSpec
from pyml_offline.tables import TableName
from tests.offline.conftest import job_spec

WORKERS = "the Python workers (Parquet files)"

KINDS_MODEL = '''
import numpy as np
import pandas as pd

from pyml import DataFrameModel


class Kinds(DataFrameModel):
    """One output column of each type the workers write, with nulls, NaN and -0.0."""

    def __init__(self, home: str):
        pass

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        x = df["x"].to_numpy()
        n = len(x)
        odd = (np.arange(n) % 2).astype(bool)
        return pd.DataFrame({
            "i8": (x % 100).astype(np.int8),
            "i16": (x * 7).astype(np.int16),
            "i32": (x * 1_000).astype(np.int32),
            "i64": (x * 1e12).astype(np.int64),
            "f32": (x / 3).astype(np.float32),
            "f64": np.where(x == 0, -0.0, np.where(x == 1, np.nan, x / 7)),
            "flag": odd,
            "label": [None if i % 5 == 0 else f"row {i}" for i in range(n)],
            "raw": [None if i % 4 == 0 else bytes([i % 256, 0, 255]) for i in range(n)],
        })
'''


@pytest.fixture(scope="module")
def kinds_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("kinds")
    (home / "model.py").write_text(KINDS_MODEL)
    pyml.save_validation(home, pd.DataFrame({"x": np.array([0.0, 1.0, 2.5])}))
    return home


@pytest.fixture(scope="module")
def xs(spark: Any) -> str:
    rows = pd.DataFrame({"id": np.arange(3_000, dtype=np.int64), "x": np.arange(3_000) * 0.5})
    spark.sql("CREATE DATABASE IF NOT EXISTS writes")
    spark.createDataFrame(rows).write.mode("overwrite").saveAsTable("writes.xs")
    return "writes.xs"


def _run(spark: Any, home: Path, query: str, dest: str, **changes: Any) -> Any:
    spec = job_spec(model_home=str(home), query=query, dest_table=dest, **changes)
    return run_job(spec, spark, progress="off")


def _bits(value: Any) -> Any:
    """A value as compared here: floats by their bits (NaN, -0.0), the rest as is."""
    if isinstance(value, float):
        return struct.pack("<d", value).hex()
    return value


def _rows(spark: Any, table: str) -> list[tuple[Any, ...]]:
    rows = spark.table(table).orderBy("id").collect()
    return [tuple(_bits(value) for value in row) for row in rows]


def _folder(spark: Any, table: str) -> Path:
    [location] = [
        row["data_type"]
        for row in spark.sql(f"DESCRIBE TABLE EXTENDED {table}").collect()
        if row["col_name"] == "Location"
    ]
    return Path(str(location).removeprefix("file:"))


@pytest.mark.parametrize("query", ["SELECT * FROM writes.xs", "SELECT * FROM writes.xs WHERE id>7"])
def test_the_workers_write_bit_for_bit_the_table_spark_s_writer_writes(
    spark: Any, kinds_home: Path, xs: str, query: str
) -> None:
    # The plain scan is read by the workers; the filter makes Spark's reader feed them.
    name = "filtered" if "WHERE" in query else "plain"
    direct = _run(spark, kinds_home, query, f"writes.{name}_direct", key_columns=("id",))
    by_spark = _run(
        spark, kinds_home, query, f"writes.{name}_spark", key_columns=("id",), writer="spark"
    )
    assert direct.writer == WORKERS
    assert by_spark.writer == "Spark's writer (asked for)"
    assert direct.rows_predicted == by_spark.rows_predicted == (3_000 if name == "plain" else 2_992)
    got, want = spark.table(f"writes.{name}_direct"), spark.table(f"writes.{name}_spark")
    assert got.schema == want.schema
    assert [f.dataType.simpleString() for f in got.schema.fields] == [
        "bigint", "tinyint", "smallint", "int", "bigint", "float", "double", "boolean",
        "string", "binary",
    ]  # fmt: skip
    rows = _rows(spark, f"writes.{name}_direct")
    assert rows == _rows(spark, f"writes.{name}_spark")
    assert any(row[8] is None for row in rows) and any(row[9] is None for row in rows)
    # Read as plain files too (no metastore), the columns keep Spark's types.
    folder = _folder(spark, f"writes.{name}_direct")
    files = sorted(folder.glob("part-*.snappy.parquet"))
    assert files and not (folder / ATTEMPTS).exists()
    assert spark.read.parquet(*[str(path) for path in files]).schema == want.schema


def test_only_the_attempts_spark_reports_become_the_table(spark: Any, xs: str) -> None:
    from pyspark.sql.types import LongType, StructField, StructType

    columns = StructType([StructField("id", LongType())])
    plan = plan_write(spark, "writes", columns)
    assert isinstance(plan, ParquetWrite), plan

    def written(folder: str) -> Any:
        # Two attempts of partition 0 finished: Spark reports only the one it kept.
        for attempt in (7, 8):
            table = pa.table({"id": pa.array([attempt], pa.int64())})
            pq.write_table(table, Path(folder) / f"{attempt}.parquet")
        return spark.createDataFrame([(0, str(Path(folder) / "8.parquet"), 1)], WRITTEN)

    staging = TableName("writes", "attempts")
    spark.sql(f"DROP TABLE IF EXISTS {staging.sql}")
    assert write_table_files(spark, staging, columns, plan, written) == 1
    assert [row.id for row in spark.table(staging.sql).collect()] == [8]
    folder = _folder(spark, staging.sql)
    [part] = folder.glob("part-00000-*-c000.snappy.parquet")
    assert sorted(path.name for path in folder.iterdir()) == sorted([part.name, "_SUCCESS"])


def test_a_query_with_no_rows_leaves_an_empty_table_with_the_columns(
    spark: Any, kinds_home: Path, xs: str
) -> None:
    summary = _run(spark, kinds_home, "SELECT * FROM writes.xs WHERE id < 0", "writes.none")
    assert summary.writer == WORKERS
    assert summary.rows_predicted == 0
    table = spark.table("writes.none")
    assert table.count() == 0
    assert table.columns == ["i8", "i16", "i32", "i64", "f32", "f64", "flag", "label", "raw"]
    # As with Spark's writer, the folder alone says the columns (one empty file).
    assert spark.read.parquet(str(_folder(spark, "writes.none"))).schema == table.schema


def test_nan_keys_are_found_by_filters_as_in_spark_s_files(
    spark: Any, kinds_home: Path, xs: str
) -> None:
    # pyarrow leaves NaN out of min/max statistics; Spark's pushdown must not skip them.
    query = "SELECT id, IF(id % 10 = 0, double('NaN'), id / 2000.0D) AS score, x FROM writes.xs"
    for writer in ("auto", "spark"):
        dest = f"writes.nan_{writer}"
        summary = _run(spark, kinds_home, query, dest, key_columns=("id", "score"), writer=writer)
        assert summary.writer == (WORKERS if writer == "auto" else "Spark's writer (asked for)")
    for where in ("score >= 5", "score = double('NaN')", "isnan(score)", "score < 0.5"):
        counts = [
            spark.sql(f"SELECT * FROM writes.nan_{w} WHERE {where}").count()
            for w in ("auto", "spark")
        ]
        assert counts[0] == counts[1] > 0, (where, counts)


def test_a_database_folder_with_percent_signs_gets_every_row(
    spark: Any, kinds_home: Path, xs: str, tmp_path: Path
) -> None:
    # Its location is a percent-encoded URI: decoded once, the files land in the table.
    spark.sql(f"CREATE DATABASE IF NOT EXISTS odd LOCATION '{tmp_path}/p%41ct 1/odd.db'")
    summary = _run(spark, kinds_home, "SELECT * FROM writes.xs", "odd.t", key_columns=("id",))
    assert summary.writer == WORKERS
    assert spark.table("odd.t").count() == 3_000
    assert list((tmp_path / "p%41ct 1" / "odd.db" / "t").glob("part-*"))


def test_spark_s_parquet_codec_is_the_one_the_workers_use(
    spark: Any, kinds_home: Path, xs: str
) -> None:
    spark.conf.set("spark.sql.parquet.compression.codec", "zstd")
    try:
        summary = _run(spark, kinds_home, "SELECT * FROM writes.xs", "writes.zstd")
    finally:
        spark.conf.unset("spark.sql.parquet.compression.codec")
    assert summary.writer == WORKERS
    files = list(_folder(spark, "writes.zstd").glob("part-*"))
    assert files and all(path.name.endswith(".zstd.parquet") for path in files)
    assert pq.ParquetFile(files[0]).metadata.row_group(0).column(0).compression == "ZSTD"


def _struct(*fields: tuple[str, Any, dict[str, Any]]) -> Any:
    from pyspark.sql.types import StructField, StructType

    return StructType([StructField(name, kind, True, meta) for name, kind, meta in fields])


def test_what_the_workers_would_write_otherwise_is_spark_s(spark: Any, xs: str) -> None:
    from pyspark.sql.types import DateType, DecimalType, DoubleType, StringType

    def reason(columns: Any) -> str:
        plan = plan_write(spark, "writes", columns)
        assert isinstance(plan, SparkWrite), plan
        return plan.reason

    assert reason(_struct(("d", DecimalType(10, 2), {}))) == "column 'd' is decimal(10,2)"
    assert reason(_struct(("day", DateType(), {}))) == "column 'day' is date"
    field_id = {"parquet.field.id": 3}
    assert reason(_struct(("p", DoubleType(), field_id))) == (
        "column 'p' carries metadata (['parquet.field.id'])"
    )
    plain = _struct(("p", DoubleType(), {}), ("s", StringType(), {}))
    assert isinstance(plan_write(spark, "writes", plain), ParquetWrite)
    spark.conf.set("spark.sql.files.maxRecordsPerFile", "100")
    try:
        assert reason(plain) == "spark.sql.files.maxRecordsPerFile is set"
    finally:
        spark.conf.unset("spark.sql.files.maxRecordsPerFile")
    spark.conf.set("spark.sql.parquet.compression.codec", "lz4")
    try:
        assert reason(plain) == "Spark's Parquet codec is lz4"
    finally:
        spark.conf.unset("spark.sql.parquet.compression.codec")


def test_a_database_off_the_local_file_system_is_spark_s() -> None:
    from pyspark.sql.types import DoubleType

    # A stand-in session whose database lives on HDFS: the workers cannot write there.
    session = SimpleNamespace(
        conf=SimpleNamespace(get=lambda key, default=None: default),
        catalog=SimpleNamespace(
            getDatabase=lambda name: SimpleNamespace(locationUri=f"hdfs://nn/w/{name}.db")
        ),
    )
    plan = plan_write(session, "far", _struct(("p", DoubleType(), {})))  # type: ignore[arg-type]
    assert plan == SparkWrite(
        "the database's folder is not on the local file system (hdfs://nn/w/far.db)"
    )


def test_the_writer_crosses_into_the_container_and_only_known_ones_are_taken() -> None:
    assert JobSpec.from_json(job_spec(writer="spark").to_json()).writer == "spark"
    assert JobSpec.from_json(job_spec().to_json()).writer == "auto"
    with pytest.raises(ValueError, match=r"writer 'pyarrow': expected one of auto, spark"):
        job_spec(writer="pyarrow")
