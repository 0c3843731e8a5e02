"""Plain scans of Parquet tables, read by the Python workers with pyarrow instead of by Spark.

A `mapInArrow` function gets its batches from Spark's JVM, which reads Parquet into rows and
turns the rows into Arrow again: for the example (31 doubles a row, a 0.3 µs/row model) that
is most of the job (measured: Spark reading and writing the table with no Python at all runs
at 0.17 of the speed of the model's own predict). When the query only picks columns of one
Parquet table, the workers can read those files straight into the same Arrow batches and skip
both conversions. Spark still plans the query, schedules the work and writes the table.

Taken only when the rows and values are sure to be the same as Spark's reader gives: after
Spark's optimizer the query is a projection of plain columns (renames allowed) of one
unpartitioned Parquet table on the local file system (`file:`, shared by driver and workers),
and every column the model needs is, in every file, of the very Arrow type Spark would hand
over, among types whose reading has no options (numbers, booleans, strings, binary,
decimals). Anything else (filters, joins, expressions, limits, partitioned tables, other
formats or file systems, dates and timestamps) is Spark's own scan, and the summary says why.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

MAX_FILES = 1_000  # each file's footer is read on the driver first; more is Spark's scan
DEFAULT_TASK_BYTES = 128 * 1024 * 1024  # Spark's own default split size


@dataclass(frozen=True)
class SparkScan:
    """Spark reads the rows; `reason` says why the files could not be read directly."""

    reason: str

    def describe(self) -> str:
        return f"Spark's reader ({self.reason})"


@dataclass(frozen=True)
class ParquetScan:
    """The files of a plain scan, and how to turn each into the batches Spark would give."""

    files: tuple[str, ...]
    sources: tuple[str, ...]  # the file column behind each of `schema`'s columns
    schema: pa.Schema  # as Spark hands it to `mapInArrow`: names, order and types
    batch_rows: int
    groups: tuple[tuple[str, ...], ...]  # the files of each task (see file_groups)

    def describe(self) -> str:
        count = len(self.files)
        return f"Parquet files read by the Python workers ({count} file{'s' if count > 1 else ''})"

    def read(self, path: str) -> Iterator[pa.Table]:
        """One file's rows, `batch_rows` at a time, with Spark's names and types."""
        source = pq.ParquetFile(path)
        for batch in source.iter_batches(self.batch_rows, columns=list(self.sources)):
            columns = [batch.column(name) for name in self.sources]
            yield pa.Table.from_arrays(columns, schema=self.schema)


Scan = ParquetScan | SparkScan


class _NotPlain(Exception):
    """Why a query's rows must come through Spark's own reader."""


def plan_scan(spark: SparkSession, frame: DataFrame, batch_rows: int) -> Scan:
    """A `ParquetScan` when `frame` is a plain scan of Parquet files, else why not."""
    try:
        _check_settings(spark)
        names = _projected_columns(frame)
        schema = _arrow_schema(spark, frame)
        files = _local_files(frame.inputFiles())
        sources = tuple(names[field.name] for field in schema)
        _check_files(files, dict(zip(sources, schema.types, strict=True)))
    except _NotPlain as exc:
        return SparkScan(str(exc))
    except Exception as exc:  # only an optimisation: Spark's reader is always right
        return SparkScan(f"the direct read could not be planned: {type(exc).__name__}: {exc}")
    return ParquetScan(files, sources, schema, batch_rows, tuple(file_groups(spark, files)))


# Spark settings under which its reader does what a plain pyarrow read would not: skip bad
# files, match columns by Parquet field id.
_READER_SETTINGS = {
    "spark.sql.files.ignoreCorruptFiles": "false",
    "spark.sql.files.ignoreMissingFiles": "false",
    "spark.sql.parquet.fieldId.read.enabled": "false",
}


def _check_settings(spark: SparkSession) -> None:
    for key, default in _READER_SETTINGS.items():
        if str(spark.conf.get(key, default)).lower() != default:
            raise _NotPlain(f"{key} is set")


def _projected_columns(frame: DataFrame) -> dict[str, str]:
    """Each of `frame`'s columns → the table column it is, if the optimized plan is a
    projection of plain columns over one Parquet relation."""
    # Spark's plan through py4j: there is no Python API for it. These are Catalyst's tree
    # classes and methods (checked with Spark 4.3); anything unexpected raises, and
    # `plan_scan` then falls back to Spark's reader.
    plan = frame._jdf.queryExecution().optimizedPlan()
    names: dict[str, str] = {}
    if _kind(plan) == "Project":
        items = plan.projectList()
        for index in range(items.size()):
            names.update(_plain_column(items.apply(index)))
        plan = plan.child()
    if _kind(plan) == "HiveTableRelation":  # Hive's own formats: text, ORC, Avro, ...
        raise _NotPlain("the table is not Parquet files (a Hive SerDe table)")
    if _kind(plan) != "LogicalRelation":
        raise _NotPlain(f"the query's plan has a {plan.nodeName()} step")
    relation = plan.relation()
    if _kind(relation) != "HadoopFsRelation" or _kind(relation.fileFormat()) != (
        "ParquetFileFormat"
    ):
        raise _NotPlain(f"the table is not Parquet files ({relation.toString()[:80]})")
    if not relation.partitionSchema().isEmpty():
        raise _NotPlain("the table is partitioned")
    # The table's own reader options (a Scala map): any of the settings above set per table.
    options = str(relation.options().toString()).lower()
    for key in _READER_SETTINGS:
        if key.rsplit(".", 1)[1].lower() in options:
            raise _NotPlain(f"the table sets {key.rsplit('.', 1)[1]}")
    if not names:  # no projection: the relation's own columns
        output = plan.output()
        names = {output.apply(i).name(): output.apply(i).name() for i in range(output.size())}
    return names


def _plain_column(item: Any) -> dict[str, str]:
    if _kind(item) == "AttributeReference":
        return {item.name(): item.name()}
    if _kind(item) == "Alias" and _kind(item.child()) == "AttributeReference":
        return {item.name(): item.child().name()}
    raise _NotPlain(f"the query computes column '{item.name()}'")


def _kind(node: Any) -> str:
    return str(node.getClass().getSimpleName())


def _local_files(uris: list[str]) -> tuple[str, ...]:
    if not uris:
        raise _NotPlain("the table has no files")
    if len(uris) > MAX_FILES:
        raise _NotPlain(f"the table has {len(uris)} files (more than {MAX_FILES})")
    paths = []
    for uri in uris:
        path = local_path(uri)
        if path is None:
            raise _NotPlain(f"the table's files are not on the local file system ({uri})")
        if not path.is_file():
            raise _NotPlain(f"file {path} is not readable here")
        if path.stat().st_size > 0:  # Spark's scan skips empty files; pyarrow cannot open them
            paths.append(str(path))
    if not paths:
        raise _NotPlain("the table's files are all empty")
    return tuple(paths)


def local_path(uri: str) -> Path | None:
    """A `file:` URI (file:/a/b or file:///a/b, percent-encoded, as Spark gives them) as a
    local path; None for any other file system."""
    parts = urlsplit(uri)
    return Path(unquote(parts.path)) if parts.scheme == "file" else None


def _arrow_schema(spark: SparkSession, frame: DataFrame) -> pa.Schema:
    """The Arrow schema `mapInArrow` would hand over for `frame`; plain types only."""
    from pyspark.sql import types

    plain = (*plain_types(), types.DecimalType)
    for field in frame.schema.fields:
        if not isinstance(field.dataType, plain):
            raise _NotPlain(f"column '{field.name}' is {field.dataType.simpleString()}")
    return spark_arrow_schema(spark, frame.schema)


def plain_types() -> tuple[type, ...]:
    """Spark's types whose Arrow and Parquet forms have no options or settings."""
    from pyspark.sql import types

    return (
        types.BooleanType,
        types.ByteType,
        types.ShortType,
        types.IntegerType,
        types.LongType,
        types.FloatType,
        types.DoubleType,
        types.StringType,
        types.BinaryType,
    )


def spark_arrow_schema(spark: SparkSession, struct: StructType) -> pa.Schema:
    """The Arrow schema Spark's `mapInArrow` uses for `struct` in this session."""
    from pyspark.sql.pandas.types import to_arrow_schema

    large = spark.conf.get("spark.sql.execution.arrow.useLargeVarTypes", "false") == "true"
    return to_arrow_schema(struct, prefers_large_types=large)


def _check_files(files: tuple[str, ...], want: dict[str, pa.DataType]) -> None:
    for path in files:
        try:
            have = pq.read_schema(path)
        except (pa.ArrowException, OSError) as exc:
            raise _NotPlain(f"file {path} is not readable by pyarrow ({exc})") from None
        # Spark matches file columns to the table's ignoring case and refuses ambiguous ones:
        # only files where each wanted name is there once, in the table's spelling, qualify.
        folded = [name.lower() for name in have.names]
        for name, arrow_type in want.items():
            if folded.count(name.lower()) > 1:
                raise _NotPlain(f"file {path} has several columns named '{name}' but for case")
            index = have.get_field_index(name)
            if index < 0:
                raise _NotPlain(f"file {path} has no column '{name}'")
            if have.field(index).type != arrow_type:
                raise _NotPlain(
                    f"column '{name}' is {have.field(index).type} in {path} "
                    f"(Spark gives {arrow_type})"
                )


def file_groups(spark: SparkSession, files: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The files in tasks of about Spark's split size, at least one a core: biggest first,
    each to the lightest task (a file is one task's work: it is not split)."""
    sizes = {path: Path(path).stat().st_size for path in files}
    task_bytes = _split_bytes(spark)
    cores = max(1, int(spark.sparkContext.defaultParallelism))
    count = min(len(files), max(cores, math.ceil(sum(sizes.values()) / task_bytes)))
    groups: list[list[str]] = [[] for _ in range(count)]
    loads = [0] * count
    for path in sorted(files, key=lambda p: -sizes[p]):
        lightest = loads.index(min(loads))
        groups[lightest].append(path)
        loads[lightest] += sizes[path]
    return [tuple(group) for group in groups]


def _split_bytes(spark: SparkSession) -> int:
    text = spark.conf.get("spark.sql.files.maxPartitionBytes", str(DEFAULT_TASK_BYTES))
    text = str(text).lower().removesuffix("b")
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def tasks_frame(spark: SparkSession, scan: ParquetScan) -> DataFrame:
    """One row a task, `id` numbering its group of files: the input of the workers'
    `mapInArrow`. Made by the JVM (`range`), so its tasks need no Python worker of their own
    besides the one that reads and predicts."""
    count = len(scan.groups)
    return spark.range(0, count, 1, count)
