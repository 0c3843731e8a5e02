"""Prediction files written by the Python workers with pyarrow instead of by Spark's writer.

Through Spark's writer each prediction batch crosses from the Python worker into the JVM,
becomes rows, and is encoded to Parquet there; in a fresh JVM that path also waits for the
JIT compiler. The workers already hold the batches in Arrow, so they can write the Parquet
file themselves: measured on the example, the JVM's share was most of the job's per-row
cost that is not the model's (docs/offline.md, "Who writes the rows").

Spark still runs the tasks, the metastore still gets the table: the staging table is created
empty by Spark with the job's columns, each task writes one file of its predictions into a
hidden folder of that table (one file per task attempt), and the driver moves the files of
the attempts Spark reports as done into the table's folder before the usual atomic swap.
Files of failed or duplicate attempts are never moved, and the hidden folder goes with them.

Taken only when the table's files are sure to hold what Spark's writer would put there:
every column is of a type whose Parquet form has no options (booleans, integers, floats,
doubles, strings, binary), carries no column metadata (Parquet field ids, char/varchar), the
database's folder is on the local file system (`file:`, shared by driver and workers) and
Spark's Parquet codec is one pyarrow writes. Otherwise Spark's writer, and the summary says
why.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from pyml_offline.parquet_scan import local_path, plain_types, spark_arrow_schema
from pyml_offline.tables import TableName, managed_location

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

# Spark's name for a codec → pyarrow's name and the file name ending Spark gives it. Spark's
# "lz4" is Hadoop's framed LZ4, which pyarrow does not write: Spark's writer does it.
CODECS = {
    "snappy": ("snappy", ".snappy.parquet"),
    "zstd": ("zstd", ".zstd.parquet"),
    "gzip": ("gzip", ".gz.parquet"),
    "lz4_raw": ("lz4", ".lz4raw.parquet"),
    "none": ("none", ".parquet"),
    "uncompressed": ("none", ".parquet"),
}
# Spark lists a table's files skipping names that start with "_": attempts stay out of sight.
ATTEMPTS = "_pyml_attempts"
# Where Spark's writer keeps its own schema in each file; `spark.read.parquet` uses it.
SPARK_SCHEMA_KEY = "org.apache.spark.sql.parquet.row.metadata"
SPARK_VERSION_KEY = "org.apache.spark.version"
# What each task tells the driver: which file it wrote for which partition, and its rows.
WRITTEN = "partition int, file string, rows long"
_WRITTEN_ARROW = pa.schema([("partition", pa.int32()), ("file", pa.string()), ("rows", pa.int64())])
MapInArrow = Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]


@dataclass(frozen=True)
class SparkWrite:
    """Spark's writer writes the table; `reason` says why the workers could not."""

    reason: str

    def describe(self) -> str:
        return f"Spark's writer ({self.reason})"


@dataclass(frozen=True)
class ParquetWrite:
    """How the workers write the table's files: its columns as Arrow, and the codec."""

    schema: pa.Schema  # the table's columns, with Spark's own schema in the metadata
    compression: str  # pyarrow's name
    suffix: str  # the file name ending Spark would give

    def writer(self, where: Path | pa.NativeFile) -> pq.ParquetWriter:
        """A Parquet writer of the table's columns, set as below."""
        text = (pa.string(), pa.large_string(), pa.binary(), pa.large_binary())
        floating = (pa.float32(), pa.float64())
        return pq.ParquetWriter(
            where,
            self.schema,
            compression=self.compression,
            # Text and bytes only: numbers and booleans are mostly distinct values
            # (probabilities, ids), where a dictionary tripled the whole write's cost.
            use_dictionary=[f.name for f in self.schema if f.type in text],
            # No min/max for floats: pyarrow leaves NaN out of them where Spark's writer
            # does not, and Spark's filter pushdown would then skip row groups holding NaN.
            write_statistics=[f.name for f in self.schema if f.type not in floating],
            # Spark's own metadata only (its schema and version), not pyarrow's.
            store_schema=False,
        )

    def describe(self) -> str:
        return "the Python workers (Parquet files)"


Write = ParquetWrite | SparkWrite


class _NotPlain(Exception):
    """Why the table must be written by Spark's writer."""


def plan_write(spark: SparkSession, database: str, struct: StructType) -> Write:
    """A `ParquetWrite` when the workers' files are sure to be what Spark would write."""
    try:
        _check_columns(struct)
        compression, suffix = _codec(spark)
        _local_folder(str(spark.catalog.getDatabase(database).locationUri), "database")
        _check_settings(spark)
        metadata = {SPARK_SCHEMA_KEY: struct.json(), SPARK_VERSION_KEY: spark.version}
        schema = spark_arrow_schema(spark, struct).with_metadata(metadata)
    except _NotPlain as exc:
        return SparkWrite(str(exc))
    except Exception as exc:  # only an optimisation: Spark's writer is always right
        return SparkWrite(f"the direct write could not be planned: {type(exc).__name__}: {exc}")
    return ParquetWrite(schema, compression, suffix)


def _check_columns(struct: StructType) -> None:
    for field in struct.fields:
        if not isinstance(field.dataType, plain_types()):
            raise _NotPlain(f"column '{field.name}' is {field.dataType.simpleString()}")
        if field.metadata:  # Parquet field ids, char/varchar lengths: Spark's writer uses them
            raise _NotPlain(f"column '{field.name}' carries metadata ({sorted(field.metadata)})")


def _check_settings(spark: SparkSession) -> None:
    # Spark's writer splits a task's rows into files of at most this many; one file a task here.
    if int(str(spark.conf.get("spark.sql.files.maxRecordsPerFile", "0"))) > 0:
        raise _NotPlain("spark.sql.files.maxRecordsPerFile is set")


def _codec(spark: SparkSession) -> tuple[str, str]:
    codec = str(spark.conf.get("spark.sql.parquet.compression.codec", "snappy")).lower()
    if codec not in CODECS:
        raise _NotPlain(f"Spark's Parquet codec is {codec}")
    return CODECS[codec]


def _local_folder(uri: str, what: str) -> Path:
    path = local_path(uri)
    if path is None:
        raise _NotPlain(f"the {what}'s folder is not on the local file system ({uri})")
    return path


@dataclass(frozen=True)
class WriteFiles:
    """The `mapInArrow` function of a direct write: `predict`'s batches into one Parquet file
    for this task attempt, in `folder`; yields one row saying so (see WRITTEN)."""

    predict: MapInArrow
    plan: ParquetWrite
    folder: str

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        task = TaskContext.get()
        assert task is not None, "WriteFiles runs in a Spark task"
        path = Path(self.folder) / f"{task.taskAttemptId()}.parquet"
        rows = 0
        writer: pq.ParquetWriter | None = None
        try:
            for batch in self.predict(batches):
                if writer is None:
                    writer = self.plan.writer(path)
                writer.write_batch(_conform(batch, self.plan.schema))
                rows += batch.num_rows
        except BaseException:
            if writer is not None:
                writer.close()
                path.unlink(missing_ok=True)
            raise
        if writer is None:  # no rows: no file, as the table's columns are in the metastore
            return
        writer.close()
        yield pa.RecordBatch.from_pylist(
            [{"partition": task.partitionId(), "file": str(path), "rows": rows}],
            schema=_WRITTEN_ARROW,
        )


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """The batch with the table's names and Arrow types (safe casts only: a value that does
    not fit fails the task rather than change)."""
    columns = [
        column if column.type == field.type else column.cast(field.type, safe=True)
        for column, field in zip(batch.columns, schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def write_table_files(
    spark: SparkSession,
    staging: TableName,
    struct: StructType,
    plan: ParquetWrite,
    written: Callable[[str], DataFrame],
) -> int:
    """Create `staging` empty, run `written(folder)` (a frame of WriteFiles rows), and move
    the reported files into the table. Returns the rows written."""
    from pyspark.sql.types import StructField, StructType

    # A table made by saveAsTable has nullable columns whatever the query said: the same here.
    columns = StructType([StructField(f.name, f.dataType, True) for f in struct.fields])
    spark.catalog.createTable(
        f"{staging.database}.{staging.table}", source="parquet", schema=columns
    )
    folder = _table_folder(spark, staging)
    attempts = folder / ATTEMPTS
    attempts.mkdir(parents=True)
    reports = written(str(attempts)).collect()
    job = uuid.uuid4()
    for report in sorted(reports, key=lambda row: int(row["partition"])):
        name = f"part-{int(report['partition']):05d}-{job}-c000{plan.suffix}"
        os.replace(report["file"], folder / name)
    if not reports:  # as Spark's writer: one empty file, so the folder alone has the schema
        plan.writer(folder / f"part-00000-{job}-c000{plan.suffix}").close()
    # Files of attempts Spark did not report (failed, or a duplicate) go; the folder's name
    # keeps anything a straggler still writes out of the table.
    shutil.rmtree(attempts, ignore_errors=True)
    (folder / "_SUCCESS").touch()  # what Spark's committer leaves, and some tools wait for
    spark.sql(f"REFRESH TABLE {staging.sql}")
    _check_moved(spark, staging, max(1, len(reports)))
    return sum(int(report["rows"]) for report in reports)


def _table_folder(spark: SparkSession, name: TableName) -> Path:
    """A managed table's folder; its URI is percent-encoded, read as plan_write checked it."""
    try:
        return _local_folder(managed_location(spark, name), "table")
    except _NotPlain as exc:  # plan_write checked the database's folder: this is a surprise
        raise RuntimeError(str(exc)) from None


def _check_moved(spark: SparkSession, name: TableName, files: int) -> None:
    """The table lists the files just moved into it: else they went somewhere else."""
    listed = len(spark.table(name.sql).inputFiles())
    if listed != files:
        raise RuntimeError(
            f"{name.sql} lists {listed} files after {files} were moved into its folder"
        )


def spark_writes(frame: DataFrame, staging: TableName) -> None:
    """Spark's own writer: the predictions frame saved as the staging table."""
    frame.write.format("parquet").saveAsTable(f"{staging.database}.{staging.table}")
