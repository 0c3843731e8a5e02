"""The offline job: SQL query → the model, per Arrow record batch → a Hive table, atomically.

    python -m pyml_offline.job spec.json        # how the runner starts it in the model image

Everything that can be refused is refused on the driver before any work: the query (Spark's
own error), the model's input columns (missing or mistyped, named), the destination (exists
without overwrite). Then the rows go through `mapInArrow` into `udf.BatchPredictor` (the
runtime's predict path) and `tables.write_atomically` swaps the result in. A query that only
picks columns of a Parquet table has its files read by the Python workers themselves
(`parquet_scan`): the same batches, without Spark's row conversions. Predictions of plain
types are written to the table's Parquet files by the workers too (`parquet_write`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pyml_offline.class_archive import CLASS_PATH, java_options
from pyml_offline.errors import OfflineJobError
from pyml_offline.parquet_scan import ParquetScan, plan_scan, tasks_frame
from pyml_offline.parquet_write import (
    WRITTEN,
    ParquetWrite,
    SparkWrite,
    WriteFiles,
    plan_write,
    spark_writes,
    write_table_files,
)
from pyml_offline.progress import (
    Counters,
    JobSummary,
    Phases,
    ProgressStyle,
    Stopwatch,
    job_progress,
)
from pyml_offline.schema import (
    ModelSchema,
    check_key_columns,
    check_query_columns,
    model_schema,
    output_struct,
)
from pyml_offline.session import hive_session
from pyml_offline.spec import DEFAULT_BATCH_BYTES, JobSpec
from pyml_offline.tables import TableName, check_destination, write_atomically
from pyml_offline.udf import ERROR_MARKER, BatchPredictor, ScanAndPredict, WorkerWarmUp
from pyml_runtime.config import load_config

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

RESULT_MARKER = "PYML_OFFLINE_RESULT "


def build_session(spec: JobSpec) -> SparkSession:
    """A Hive-enabled session; with `spec.warehouse`, the embedded warehouse and metastore."""
    conf = {
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(spec.batch_rows),
        "spark.sql.execution.arrow.maxBytesPerBatch": str(DEFAULT_BATCH_BYTES),
    }
    warehouse = Path(spec.warehouse) if spec.warehouse else None
    options = java_options(spec.class_archive, spec.class_list_dir)
    spark = hive_session(warehouse, spec.master, {**conf, **spec.spark_conf}, options)
    if spec.class_list_dir:  # the archive is made for exactly this JVM's class path
        class_path = spark.sparkContext._jvm.System.getProperty("java.class.path")  # type: ignore[union-attr]
        (Path(spec.class_list_dir) / CLASS_PATH).write_text(str(class_path))
    return spark


def run_job(
    spec: JobSpec, spark: SparkSession | None = None, progress: ProgressStyle = "rich"
) -> JobSummary:
    """Run one batch prediction; raises OfflineJobError with the destination untouched."""
    clock = Stopwatch()
    phases = Phases()
    home = Path(spec.model_home)
    model = model_schema(home, spec.model_name or load_config(home).name or home.name)
    spark = spark or build_session(spec)
    phases.mark("session")
    warm_up = _warm_up_workers(spark, spec, model.name)
    try:
        dest = TableName.parse(spec.dest_table)
        frame = _query(spark, spec.query)
        check_query_columns(frame.schema, model)
        check_key_columns(frame.schema, spec.key_columns, model)
        struct = output_struct(frame.schema, spec.key_columns, model)
        check_destination(spark, dest, spec.mode, struct)
    finally:
        warm_up.join()  # no Spark job of ours outlives a refusal
    counters = Counters(spark.sparkContext.accumulator(0), spark.sparkContext.accumulator(0))
    predictions = _predictions(spark, frame, spec, model, counters)
    fill, writer = _filler(spark, predictions, struct, spec, dest)
    phases.mark("plan")
    with job_progress(counters, f"{model.name} → {dest.database}.{dest.table}", progress):
        _write(spark, fill, dest, spec, model, phases)
    return JobSummary(
        f"{dest.database}.{dest.table}",
        spec.mode,
        int(counters.rows_read.value),
        int(counters.rows_predicted.value),
        clock.seconds(),
        dict(spec.properties),
        phases.seconds,
        predictions.reader,
        writer,
    )


def _warm_up_workers(spark: SparkSession, spec: JobSpec, name: str) -> threading.Thread:
    """Start the Python workers and load the model in them, in the background.

    The driver's first metastore use (the query, the destination checks) takes seconds of
    mostly one JVM thread; the workers' imports and model load take seconds too, and the
    job's first tasks would wait for them. Overlapping the two shortens every job.
    """
    cores = max(1, int(spark.sparkContext.defaultParallelism))
    home = str(Path(spec.model_home).absolute())
    warm = spark.range(0, cores, 1, cores).mapInArrow(
        WorkerWarmUp(home, name, spec.batch_rows), "id long"
    )

    def run() -> None:
        # Only an optimisation: the job's own tasks meet (and report) whatever fails here.
        with contextlib.suppress(Exception):
            warm.collect()

    thread = threading.Thread(target=run, name="pyml-offline-warm-up", daemon=True)
    thread.start()
    return thread


def _query(spark: SparkSession, query: str) -> DataFrame:
    from pyspark.errors import PySparkException

    try:
        return spark.sql(query)
    except PySparkException as exc:
        raise OfflineJobError(f"the query failed: {exc}") from None


@dataclass(frozen=True)
class Predictions:
    """Where the model's rows come from (the query's rows, or groups of its files), the
    `mapInArrow` function that predicts them, and who reads them. Lazy until written."""

    source: DataFrame
    predict: BatchPredictor | ScanAndPredict
    reader: str


def _predictions(
    spark: SparkSession, frame: DataFrame, spec: JobSpec, model: ModelSchema, counters: Counters
) -> Predictions:
    """Key and input columns only, each batch through the model, and which reader feeds it."""
    columns = list(dict.fromkeys([*spec.key_columns, *model.input.names]))
    predictor = BatchPredictor(
        str(Path(spec.model_home).absolute()),
        model.name,
        spec.key_columns,
        model.output,
        counters.rows_read,
        counters.rows_predicted,
    )
    selected = frame.select(*[f"`{column}`" for column in columns])
    scan = plan_scan(spark, selected, spec.batch_rows) if spec.reader == "auto" else None
    if isinstance(scan, ParquetScan):
        return Predictions(
            tasks_frame(spark, scan), ScanAndPredict(predictor, scan), scan.describe()
        )
    reason = scan.describe() if scan else "Spark's reader (asked for)"
    return Predictions(selected, predictor, reason)


def _filler(
    spark: SparkSession,
    predictions: Predictions,
    struct: StructType,
    spec: JobSpec,
    dest: TableName,
) -> tuple[Callable[[TableName], object], str]:
    """What fills the staging table with the predictions, and who writes its files."""
    asked = spec.writer == "auto"
    plan = plan_write(spark, dest.database, struct) if asked else SparkWrite("asked for")
    if isinstance(plan, ParquetWrite):
        direct = plan

        def written(folder: str) -> DataFrame:
            write = WriteFiles(predictions.predict, direct, folder)
            return predictions.source.mapInArrow(write, WRITTEN)

        return (lambda staging: write_table_files(spark, staging, struct, direct, written)), (
            plan.describe()
        )
    frame = predictions.source.mapInArrow(predictions.predict, struct)
    return (lambda staging: spark_writes(frame, staging)), plan.describe()


def _write(
    spark: SparkSession,
    fill: Callable[[TableName], object],
    dest: TableName,
    spec: JobSpec,
    model: ModelSchema,
    phases: Phases,
) -> None:
    try:
        write_atomically(spark, fill, dest, spec.mode, dict(spec.properties), phases)
    except OfflineJobError:
        raise
    except Exception as exc:  # Spark wraps the worker's failure in its own exception types
        raise OfflineJobError(_failure_text(model, exc)) from None


def _failure_text(model: ModelSchema, exc: Exception) -> str:
    """The worker's own message when there is one, else the start of Spark's."""
    for line in str(exc).splitlines():
        if ERROR_MARKER in line:
            return line.split(ERROR_MARKER, 1)[1].strip()
    head = "\n".join(str(exc).splitlines()[:20])
    return f"the Spark job predicting with model '{model.name}' failed: {head}"


def main(argv: list[str] | None = None) -> int:
    """`python -m pyml_offline.job SPEC.json`: run it; the outcome as one marked JSON line
    (the runner reads it: {"summary": ...} or {"error": "..."})."""
    import json
    from dataclasses import asdict

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m pyml_offline.job SPEC.json", file=sys.stderr)
        return 2
    spec = JobSpec.from_json(Path(args[0]).read_text())
    style = os.environ.get("PYML_PROGRESS", "rich")
    try:
        summary = run_job(spec, progress="lines" if style == "lines" else "rich")
    except OfflineJobError as exc:
        print(RESULT_MARKER + json.dumps({"error": str(exc)}), flush=True)
        return 1
    print(RESULT_MARKER + json.dumps({"summary": asdict(summary)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
