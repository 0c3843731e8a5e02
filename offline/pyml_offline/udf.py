"""What each Python worker runs: the model loaded once per worker, then the runtime's own
`Dataplane.predict_table` per Arrow record batch (the online sidecar's predict path).

A `BatchPredictor` is small plain data, pickled to the workers by Spark; the loaded model
lives in this module's cache, keyed by home folder, so a reused worker loads it only once.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pyml_offline.parquet_scan import ParquetScan
from pyml_runtime.dataplane import Dataplane
from pyml_runtime.errors import ErrorKind, PymlError
from pyml_runtime.loader import load_model
from pyml_runtime.validation import validation_paths

# The driver finds the job's own failure message in Spark's wrapped worker traceback by this.
ERROR_MARKER = "PYML_OFFLINE_ERROR: "
MAX_BAD_ROWS = 5  # rows named in a model failure: the first few are what a person reads
MAX_ROWS_PROBED = 100_000  # rows re-run to find the bad ones (a default batch at most)
PROBE_SLICE_ROWS = 1_000
REHEARSAL_SECONDS = 0.1  # see _rehearse

_DATAPLANES: dict[str, Dataplane] = {}


class BatchFailed(RuntimeError):
    """A batch the model could not predict; the message starts with ERROR_MARKER."""


def dataplane(home: str, name: str | None = None) -> Dataplane:
    """The worker's dataplane for `home` (the model called `name`), loaded on first use."""
    if home not in _DATAPLANES:
        _DATAPLANES[home] = Dataplane.for_home(load_model(Path(home), name), Path(home))
    return _DATAPLANES[home]


@dataclass(frozen=True)
class BatchPredictor:
    """The function given to `mapInArrow`: input batches → key columns + model outputs."""

    home: str
    name: str
    keys: tuple[str, ...]
    output: pa.Schema
    rows_read: Any = None  # Spark accumulators (None in unit tests)
    rows_predicted: Any = None

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        tables = (pa.Table.from_batches([batch]) for batch in batches)
        yield from self.predict_all(dataplane(self.home, self.name), tables)

    def predict_all(self, plane: Dataplane, tables: Iterable[pa.Table]) -> Iterator[pa.RecordBatch]:
        """Each table through the model, counted (rows read, rows predicted) as it goes."""
        for table in tables:
            _add(self.rows_read, table.num_rows)
            yield from self.predict(plane, table).to_batches()
            _add(self.rows_predicted, table.num_rows)

    def predict(self, plane: Dataplane, table: pa.Table) -> pa.Table:
        try:
            result = plane.predict_table("dataframe", table)
        except PymlError as exc:
            raise BatchFailed(self._failure(plane, table, exc)) from None
        columns = [table.column(key) for key in self.keys]
        for want in self.output:
            columns.append(self._output_column(plane, result, want))
        names = [*self.keys, *self.output.names]
        return pa.Table.from_arrays(columns, names=names)

    def _output_column(self, plane: Dataplane, result: pa.Table, want: pa.Field) -> Any:
        if want.name not in result.column_names:
            raise BatchFailed(
                f"{ERROR_MARKER}model '{plane.name}' returned no column '{want.name}' "
                f"(columns: {', '.join(result.column_names)}; its validation output has it)"
            )
        column = result.column(want.name)
        # Spark's Arrow types differ from pandas' for a few (timestamps in µs); safe casts only.
        return column if column.type == want.type else column.cast(want.type, safe=True)

    def _failure(self, plane: Dataplane, table: pa.Table, exc: PymlError) -> str:
        if exc.kind != ErrorKind.MODEL_ERROR:
            return f"{ERROR_MARKER}{exc.message}"
        bad = _bad_rows(plane, table)
        shown = "; ".join(self._describe_row(table, index) for index in bad) or "(not found)"
        return f"{ERROR_MARKER}{exc.message}; first bad rows: {shown}"

    def _describe_row(self, table: pa.Table, index: int) -> str:
        row = table.slice(index, 1).to_pylist()[0]
        shown = {key: row[key] for key in self.keys} if self.keys else row
        text = ", ".join(f"{name}={value!r}" for name, value in shown.items())
        return text if len(text) <= 300 else text[:297] + "..."


@dataclass(frozen=True)
class ScanAndPredict:
    """The `mapInArrow` function of a plain Parquet scan: its input rows number the scan's
    groups of files (one a task, see `tasks_frame`), each file read here into the batches
    Spark would have given."""

    predictor: BatchPredictor
    scan: ParquetScan

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        plane = dataplane(self.predictor.home, self.predictor.name)
        for batch in batches:
            for task in batch.column("id").to_pylist():
                for path in self.scan.groups[task]:
                    yield from self.predictor.predict_all(plane, self.scan.read(path))


@dataclass(frozen=True)
class WorkerWarmUp:
    """A `mapInArrow` function that readies its Python worker for the job's batches.

    Run over one tiny partition a core while the driver is busy with the metastore, it starts
    the Python workers (imports, model load: seconds each) that the job's first tasks would
    otherwise wait for; Spark then reuses those workers for the job. It also rehearses one
    full-size batch (see `_rehearse`).
    """

    home: str
    name: str
    batch_rows: int

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for _ in batches:
            pass
        # A model that cannot load fails the job's own tasks, which report why.
        with contextlib.suppress(Exception):
            _rehearse(dataplane(self.home, self.name), Path(self.home), self.batch_rows)
        yield from ()


def _rehearse(plane: Dataplane, home: Path, batch_rows: int) -> None:
    """The model's validation rows, repeated to ever larger batches up to a job's, each
    written to Parquet in memory, read back and predicted (results dropped). A worker's first
    full-size read and predict cost several times a later one (the allocator growing, lazy
    set-ups: measured 0.15 s each a worker on the example), which the job's first batches
    would otherwise pay. Growth stops once one batch takes REHEARSAL_SECONDS: a slow model
    rehearses little."""
    validation_input, _ = validation_paths(home, "dataframe")
    sample = pq.read_table(validation_input)
    rows = sample.num_rows
    while True:
        table = pa.concat_tables([sample] * max(1, rows // max(1, sample.num_rows)))
        start = time.monotonic()
        file = pa.BufferOutputStream()
        pq.write_table(table, file)
        for batch in pq.ParquetFile(pa.BufferReader(file.getvalue())).iter_batches(batch_rows):
            plane.predict_table("dataframe", pa.Table.from_batches([batch]))
        if rows >= batch_rows or time.monotonic() - start >= REHEARSAL_SECONDS:
            return
        rows = min(batch_rows, rows * 4)


def _bad_rows(plane: Dataplane, table: pa.Table) -> list[int]:
    """Indices of the first rows the model raises on alone (a bounded probe of one batch).

    Slices of PROBE_SLICE_ROWS first, then rows one by one only within a slice that fails:
    a large batch with a few bad rows costs a few hundred calls, not one a row.
    """
    bad: list[int] = []
    probed = min(table.num_rows, MAX_ROWS_PROBED)
    for start in range(0, probed, PROBE_SLICE_ROWS):
        length = min(PROBE_SLICE_ROWS, probed - start)
        if _predicts(plane, table.slice(start, length)):
            continue
        for index in range(start, start + length):
            if not _predicts(plane, table.slice(index, 1)):
                bad.append(index)
                if len(bad) == MAX_BAD_ROWS:
                    return bad
    return bad


def _predicts(plane: Dataplane, table: pa.Table) -> bool:
    try:
        plane.predict_table("dataframe", table)
    except PymlError:
        return False
    return True


def _add(accumulator: Any, rows: int) -> None:
    if accumulator is not None:
        accumulator.add(rows)
