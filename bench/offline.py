"""Offline throughput: the Spark job in the model's image against in-process predict, one run.

    .venv/bin/python bench/offline.py [--rows 1000000]

Trains and packages the breast cancer example in a throwaway $PYML_HOME, makes a table of
`--rows` resampled noisy rows, then measures, in this order:
- the job's fixed start-up cost: a containerized job over a 1-row table of the same shape
  (container, JVM, metastore, Python worker and model load, atomic table swap; read the same
  way as the big table, see parquet_scan), with the job's own phase times;
- the job over all rows (wall time as the user waits for it), the rows/s net of the fixed
  cost (its compute phase less the 1-row job's: the other phases do not grow with rows),
  and the rows/s of its "compute" phase (the one Spark job: read → predict → write);
- floors, in one more container of the same image and limits (one JVM, each step run three
  times, the best warm time kept): Spark reading the table only; reading and writing it with
  no Python; reading, a round trip through a Python worker that does no work, and writing;
  the job's read → predict → write through Spark's reader and writer; the same with the
  table's files read by the Python workers (parquet_scan), then also written by them (what
  the job does for a plain scan into plain columns, see parquet_write), each over all rows
  and over the 1-row table. The steps between them are what each part costs;
- in-process predict over the same rows: the model object's own `predict` and the runtime's
  `predict_table` inside that container (its 2 cores), and the model's `predict` and
  `pyml.Model.predict` in this process.
Ratios are offline rows/s over in-process rows/s (goal: ≥ 0.5 net of start-up).

The machine is shared: compare figures of one run with each other, not across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FLOOR_MARKER = "PYML_BENCH_FLOOR "
BENCH_DIR = "/pyml/bench"  # this folder, inside the floor container
BENCH_MODEL = "bench_offline_cancer"
ONE_ROW_TABLE = "bench.one_row"  # the fixed cost of a job reading the same way as the big one
FLOOR_PASSES = 3  # the first warms the JIT and the Python workers; the best of the rest is kept


def _timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--floor", metavar="SPEC", help=argparse.SUPPRESS)  # in the container
    args = parser.parse_args()
    if args.floor:
        print(FLOOR_MARKER + json.dumps(_floors(Path(args.floor))), flush=True)
        return
    _bench(args.rows)


def _bench(rows: int) -> None:
    import pyml
    from pyml_offline.sample_tables import cancer_rows

    scratch = Path(tempfile.mkdtemp(prefix="pyml-bench-off-", dir="/tmp"))
    os.environ["PYML_HOME"] = str(scratch / "home")
    os.environ.setdefault("PYML_IMAGE_PREFIX", f"pyml-bench-{os.getpid()}")
    version = None
    try:
        home = shutil.copytree(EXAMPLES / "breast_cancer_lr", scratch / "breast_cancer_lr")
        train = [sys.executable, str(EXAMPLES / "train_breast_cancer.py"), str(home)]
        subprocess.run(train, check=True, capture_output=True)
        # Its own name: offline containers are labelled with the version's ref, and a test
        # suite's cleanup of `breast_cancer_lr:1` must not take this benchmark's for its own.
        version = pyml.Model.from_home(home).package(BENCH_MODEL, progress=False)
        make = [sys.executable, "-m", "pyml_offline.sample_tables", "--table", "bench.rows"]
        subprocess.run([*make, "--rows", str(rows)], check=True, capture_output=True)
        make_one = [sys.executable, "-m", "pyml_offline.sample_tables", "--table", ONE_ROW_TABLE]
        subprocess.run([*make_one, "--rows", "1"], check=True, capture_output=True)
        one_row = f"SELECT * FROM {ONE_ROW_TABLE}"
        # The first job also prepares the JRE and pyspark caches: not part of either figure.
        version.predict_offline(one_row, "bench.warm", progress=False)
        start = time.perf_counter()
        one = version.predict_offline(one_row, "bench.one", key_columns=["id"], progress=False)
        fixed = time.perf_counter() - start
        start = time.perf_counter()
        everything = version.predict_offline(
            "SELECT * FROM bench.rows", "bench.all", key_columns=["id"], progress=False
        )
        total = time.perf_counter() - start
        floors = _floors_in_image(version.record, "SELECT * FROM bench.rows")
        frame = cancer_rows(rows).drop(columns="id")
        model = pyml.Model.from_home(home)
        own = _timed(lambda: model._loaded.instance.predict(frame))
        via_pyml = _timed(lambda: model.predict(frame))
        _report(
            Figures(rows, fixed, one.phases, total, everything.phases, floors, own, via_pyml),
            everything.reader,
            everything.writer,
        )
    finally:
        if version is not None:
            subprocess.run(["docker", "rmi", "-f", str(version.image["tag"])], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)


def _floors_in_image(record: Any, query: str) -> dict[str, Any]:
    """`_floors` in the version's image, with the job's own mounts, settings and limits."""
    from pyml_offline.runner import PYTHON, ContainerSettings, job_spec, run_in_image

    settings = ContainerSettings()
    spec = job_spec(record, settings, query=query, dest_table="bench.floor", key_columns=("id",))
    here = str(Path(__file__).resolve().parent)
    argv = [PYTHON, f"{BENCH_DIR}/offline.py", "--floor", "/pyml/job/spec.json"]
    mounts = {here: {"bind": BENCH_DIR, "mode": "ro"}}
    output = run_in_image(record, spec, argv, settings, volumes=mounts)
    for line in reversed(output.splitlines()):
        if line.startswith(FLOOR_MARKER):
            result: dict[str, Any] = json.loads(line[len(FLOOR_MARKER) :])
            return result
    raise RuntimeError("the floor run gave no result:\n" + "\n".join(output.splitlines()[-40:]))


# --- in the container -------------------------------------------------------------------------


@dataclass(frozen=True)
class Passthrough:
    """A `mapInArrow` function doing no work: the key columns and the outputs' types made from
    the first input column. What Spark's JVM ⇄ Python Arrow round trip costs by itself."""

    keys: tuple[str, ...]
    output: pa.Schema
    source: str

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            column = batch.column(self.source)
            columns = [batch.column(key) for key in self.keys]
            columns += [column.cast(field.type, safe=False) for field in self.output]
            yield pa.RecordBatch.from_arrays(columns, names=[*self.keys, *self.output.names])


def _floors(spec_path: Path) -> dict[str, Any]:
    """Each step of the job's Spark work on its own, then in-process predict, in one JVM."""
    from pyspark.sql import functions as F

    from pyml_offline.job import build_session
    from pyml_offline.parquet_scan import ParquetScan, plan_scan, tasks_frame
    from pyml_offline.parquet_write import ParquetWrite, plan_write
    from pyml_offline.schema import model_schema, output_struct
    from pyml_offline.spec import JobSpec
    from pyml_offline.udf import BatchPredictor, ScanAndPredict, dataplane

    spec = JobSpec.from_json(spec_path.read_text())
    spark = build_session(spec)
    spark.sparkContext.setLogLevel("ERROR")
    model = model_schema(Path(spec.model_home), "model")
    source = spark.sql(spec.query)
    keys = spec.key_columns
    selected = source.select(*[f"`{name}`" for name in [*keys, *model.input.names]])
    struct = output_struct(source.schema, keys, model)
    first = model.input.names[0]
    no_python = selected.select(
        *[f"`{key}`" for key in keys],
        *[F.col(f"`{first}`").cast(field.dataType).alias(field.name) for field in struct][
            len(keys) :
        ],
    )
    home = str(Path(spec.model_home).absolute())
    scan = plan_scan(spark, selected, spec.batch_rows)
    assert isinstance(scan, ParquetScan), scan  # the benchmark's query is a plain scan
    direct = ScanAndPredict(BatchPredictor(home, model.name, keys, model.output), scan)
    one_row = spark.table(ONE_ROW_TABLE).select(*[f"`{name}`" for name in selected.columns])
    one_scan = plan_scan(spark, one_row, spec.batch_rows)
    assert isinstance(one_scan, ParquetScan), one_scan
    direct_one = ScanAndPredict(BatchPredictor(home, model.name, keys, model.output), one_scan)
    write = plan_write(spark, "bench", struct)
    assert isinstance(write, ParquetWrite), write  # the benchmark's columns are plain
    steps: dict[str, Callable[[], object]] = {
        "read": lambda: selected.write.format("noop").mode("overwrite").save(),
        "read_write": lambda: _save(spark, no_python),
        "read_arrow_write": lambda: _save(
            spark, selected.mapInArrow(Passthrough(keys, model.output, first), struct)
        ),
        "read_predict_write": lambda: _save(
            spark, selected.mapInArrow(BatchPredictor(home, model.name, keys, model.output), struct)
        ),
        "direct_predict_write": lambda: _save(
            spark, tasks_frame(spark, scan).mapInArrow(direct, struct)
        ),
        "direct_one_row": lambda: _save(
            spark, tasks_frame(spark, one_scan).mapInArrow(direct_one, struct)
        ),
        "direct_both": lambda: _save_directly(
            spark, tasks_frame(spark, scan).mapInArrow, direct, write, struct
        ),
        "direct_both_one_row": lambda: _save_directly(
            spark, tasks_frame(spark, one_scan).mapInArrow, direct_one, write, struct
        ),
    }
    runs: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(FLOOR_PASSES):
        for name, step in steps.items():
            runs[name].append(_timed(step))
    files = [path.removeprefix("file:") for path in spark.table(_source_table(spec)).inputFiles()]
    spark.stop()

    import pyarrow.parquet as pq

    table = pq.read_table(files, columns=model.input.names)
    plane = dataplane(home)
    frame = table.to_pandas()
    own = min(_timed(lambda: plane.model.instance.predict(frame)) for _ in range(2))
    runtime = min(_timed(lambda: plane.predict_table("dataframe", table)) for _ in range(2))
    return {"rows": table.num_rows, "runs": runs, "own": own, "runtime": runtime}


def _save(spark: Any, frame: Any) -> None:
    frame.write.mode("overwrite").format("parquet").saveAsTable("bench.floor")


def _save_directly(spark: Any, map_in_arrow: Any, predict: Any, write: Any, struct: Any) -> None:
    """What the job does for plain output columns: the workers write the table's files."""
    from pyml_offline.parquet_write import WRITTEN, WriteFiles, write_table_files
    from pyml_offline.tables import TableName

    spark.sql("DROP TABLE IF EXISTS bench.floor_direct")
    write_table_files(
        spark,
        TableName("bench", "floor_direct"),
        struct,
        write,
        lambda folder: map_in_arrow(WriteFiles(predict, write, folder), WRITTEN),
    )


def _source_table(spec: Any) -> str:
    # The benchmark's query is "SELECT * FROM db.table": its last word.
    return str(spec.query.split()[-1])


# --- report -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    rows: int
    fixed: float
    fixed_phases: dict[str, float]
    total: float
    phases: dict[str, float]
    floors: dict[str, Any]
    own: float
    via_pyml: float


def _report(f: Figures, reader: str, writer: str) -> None:
    rows = f.rows
    # Rows cost time in the compute phase only; session, plan and swap are fixed costs whose
    # run-to-run noise (seconds) would swamp a wall-time difference of a few seconds.
    net = max(f.phases.get("compute", f.total) - f.fixed_phases.get("compute", f.fixed), 1e-9)
    compute = f.phases.get("compute", 0.0) or 1e-9
    in_process = rows / f.own
    floor_runs = {name: min(times[1:]) for name, times in f.floors["runs"].items()}
    in_image = f.floors["rows"] / f.floors["own"]

    def rate(seconds: float) -> str:
        return (
            f"{seconds:7.1f} s  {rows / seconds:12,.0f} rows/s  {rows / seconds / in_image:5.2f}x"
        )

    def phases(values: dict[str, float]) -> str:
        return ", ".join(f"{name} {seconds:.1f}" for name, seconds in values.items())

    print(f"rows: {rows:,}  (x = rows/s over the model's own predict in the job's container)")
    print(f"job fixed start-up cost (1 row):   {f.fixed:7.1f} s  ({phases(f.fixed_phases)})")
    print(f"job over all rows (wall):          {rate(f.total)}  ({phases(f.phases)})")
    print(f"  rows read by: {reader}; written by: {writer}")
    print(f"net of start-up (compute, all - 1 row): {rate(net)}")
    print(f"job's compute phase (one Spark job): {rate(compute)}")
    print("floors, same image, 2 cores (warm):")
    print(f"  read only (no Python, no write): {rate(floor_runs['read'])}")
    print(f"  read + write, no Python:         {rate(floor_runs['read_write'])}")
    print(f"  + Arrow round trip to Python:    {rate(floor_runs['read_arrow_write'])}")
    print(f"  + the model (read→predict→write):{rate(floor_runs['read_predict_write'])}")
    print(f"  files read by the workers instead: {rate(floor_runs['direct_predict_write'])}")
    warm_net = floor_runs["direct_predict_write"] - floor_runs["direct_one_row"]
    print(f"  the same, net of a 1-row table's: {rate(max(warm_net, 1e-9))}")
    print(f"  files written by the workers too:{rate(floor_runs['direct_both'])}")
    both_net = floor_runs["direct_both"] - floor_runs["direct_both_one_row"]
    print(f"  the same, net of a 1-row table's: {rate(max(both_net, 1e-9))}")
    print("in-process predict over the same rows:")
    print(f"  model's own, in the container:   {rate(f.floors['own'])}")
    print(f"  runtime predict_table, container:{rate(f.floors['runtime'])}")
    print(f"  model's own, this process:       {f.own:7.1f} s  {in_process:12,.0f} rows/s")
    print(
        f"  pyml.Model.predict, this process:{f.via_pyml:7.1f} s  {rows / f.via_pyml:12,.0f} rows/s"
    )
    print(f"ratio offline/in-process (this process), net: {rows / net / in_process:.3f} (goal 0.5)")
    print(f"ratio offline/in-process (this process), wall: {rows / f.total / in_process:.3f}")
    print(f"ratio offline/in-process (container), net:     {rows / net / in_image:.3f}")
    read_write = rows / floor_runs["read_write"] / in_image
    print(f"Spark reading + writing this table, no Python, over in-process: {read_write:.3f}")


if __name__ == "__main__":
    main()
