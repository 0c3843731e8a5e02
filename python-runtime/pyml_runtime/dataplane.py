"""Predict, metadata and validation for one loaded model: Arrow bytes in, Arrow bytes out.

`Dataplane.predict_arrow` is THE predict path: online serving (the gRPC servicer), local
`pyml.Model.predict`, `pyml-runtime validate` and the Spark job all call it, so every caller
meets the same decoding, the same input checks and the same errors.

Inputs are checked against the schema of the stored validation input, the only schema the
model is known to work with. DataFrame models: every expected column must be present, with the
expected type or one that `conversion` (the one rule, online and offline) turns into it without
loss; extra columns are dropped and columns put in the validation order, with the validation
data's pandas metadata, so the model sees the dtypes it was validated with. Tensor models: every
expected tensor must be present with the expected dtype, rank and dimensions after the first
(the batch dimension may vary); extra tensors are dropped. Without validation data inputs are
passed through unchecked.

A DataFrame request sent exactly as validated (the validation input's own schema), whose stream
is laid out as one that passed all this before, becomes its frame straight from its values, and
an answer of a shape seen before is written as its known bytes (`frame_streams`): the same frame
and the same bytes, without the tables in between.

Calls into the model are serialized with a lock: model code is not assumed to be thread-safe.
Decoding and encoding still run in parallel.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import platform
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from pyml_runtime import __version__, batching, codec, frame_streams
from pyml_runtime.config import BatchingConfig
from pyml_runtime.conversion import InputColumns
from pyml_runtime.errors import ErrorKind, PymlError, invalid_input, model_error
from pyml_runtime.ipc_budget import DEFAULT_BUDGET, DecodeBudget
from pyml_runtime.loader import LoadedModel
from pyml_runtime.validation import (
    BatchingCheck,
    ValidationData,
    ValidationReport,
    compare_dataframes,
    compare_tensors,
    has_validation,
    load_validation,
)

PayloadKindName = Literal["dataframe", "tensors"]
# The values of pyml.v1.PayloadKind; kept here so the core never imports generated code.
PAYLOAD_KIND_NUMBERS: dict[int, PayloadKindName] = {1: "dataframe", 2: "tensors"}
_RUNTIME_LIBRARIES = ("pyarrow", "pandas", "numpy", "grpcio", "protobuf")


@dataclass(frozen=True)
class RuntimeMetadata:
    name: str
    version: str
    kind: PayloadKindName
    input_schema: bytes
    output_schema: bytes
    input_schema_text: str
    output_schema_text: str
    runtime_version: str
    python_version: str
    library_versions: dict[str, str] = field(default_factory=dict)
    model_class: str = ""
    batching: BatchingConfig = field(default_factory=BatchingConfig)


class Dataplane:
    def __init__(
        self,
        model: LoadedModel,
        validation: ValidationData | None = None,
        budget: DecodeBudget = DEFAULT_BUDGET,
    ) -> None:
        self.model = model
        self.budget = budget
        self.name = model.name
        self.kind: PayloadKindName = model.kind
        self.validation = validation
        self._lock = threading.Lock()
        self._input_table = self._to_table(validation.input) if validation else None
        self._expected_table = self._to_table(validation.expected) if validation else None
        self._input_columns = (
            InputColumns(self.name, self._input_table)
            if self._input_table is not None and self.kind == "dataframe"
            else None
        )
        # Requests' layouts, learned under this dataplane's budget (`frame_streams`).
        self._layouts = frame_streams.FrameLayouts()

    @classmethod
    def for_home(
        cls, model: LoadedModel, home: Path | None = None, budget: DecodeBudget = DEFAULT_BUDGET
    ) -> Dataplane:
        """A dataplane with the home's validation data when it has any."""
        home = Path(home) if home is not None else model.home
        validation = load_validation(home, model.kind) if has_validation(home, model.kind) else None
        return cls(model, validation, budget)

    # --- predict -----------------------------------------------------------------------------

    def predict_arrow(self, kind: PayloadKindName | int, data: bytes | memoryview) -> bytes:
        """Arrow IPC stream in (untrusted) → model.predict → Arrow IPC stream out."""
        answer = self.predict_buffer(kind, data)
        return answer if isinstance(answer, bytes) else bytes(answer.to_pybytes())

    def predict_buffer(
        self, kind: PayloadKindName | int, data: bytes | memoryview
    ) -> pa.Buffer | bytes:
        """`predict_arrow`, whose answer is left in the buffer it was written to (the servicer
        copies it once, into its message)."""
        self._check_kind(kind)
        if self._input_columns is not None:
            return self._output_stream(self._predict_frame(self._input_frame(data)))
        return codec.encode_buffer(self.predict_table(kind, self._read(data)))

    def _input_frame(self, data: bytes | memoryview) -> pd.DataFrame:
        """A DataFrame request's frame; at once from its values when its stream is laid out as
        one that was sent exactly as validated (`frame_streams`)."""
        frame = self._layouts.frame(data)
        if frame is not None:
            return frame
        table = self._read(data)
        conformed = self._conformed(table)
        frame = codec.table_to_dataframe(conformed)
        if conformed is table:  # the validation input's own schema: nothing was converted
            self._layouts.learn(data, lambda: frame)
        return frame

    def _read(self, data: bytes | memoryview) -> pa.Table:
        try:
            return codec.read_table(data, self.budget)
        except PymlError as exc:  # the codec knows bytes, not models: name the model here
            raise PymlError(exc.kind, f"model '{self.name}': {exc.message}") from exc

    def checked_input(self, kind: PayloadKindName | int, data: bytes | memoryview) -> pa.Table:
        """A payload decoded and checked as `predict_arrow` does it, before the model runs."""
        self._check_kind(kind)
        return self._conformed(self._read(data))

    def checked_request(
        self, kind: PayloadKindName | int, data: bytes | memoryview
    ) -> pa.Table | frame_streams.KnownStream:
        """A batch's payload checked as `predict_arrow` checks it: a DataFrame stream laid out
        as one already checked, else its checked table. A stream sent exactly as validated
        teaches its layout, as in `_input_frame`, and is known from then on."""
        self._check_kind(kind)
        if self._input_columns is None:
            return self._conformed(self._read(data))
        known = self._layouts.known(data)
        if known is not None:
            return known
        table = self._read(data)
        conformed = self._input_columns.conform(table)
        if conformed is table:
            # Known from now on, it joins its batch's known requests of this schema.
            known = self._layouts.learn(data, lambda: codec.table_to_dataframe(table))
        return known if known is not None else conformed

    def predict_known(self, streams: list[frame_streams.KnownStream]) -> list[batching.Answer]:
        """Known streams of one schema (`frame_streams.stacked`) through one model call: one
        answer per stream, each its rows of the model's output."""
        output = self._predict_frame(frame_streams.stacked(streams))
        if len(streams) == 1:
            return [self._output_stream(output)]  # as `predict_buffer` answers it
        counts = [stream.rows for stream in streams]
        known = frame_streams.row_streams(output, counts, self._output_bytes)
        answers: list[batching.Answer] = []
        offset = 0
        for index, count in enumerate(counts):
            answer = known[index] if known is not None else None
            if answer is None:
                answer = self._output_buffer(output.iloc[offset : offset + count])
            answers.append(answer)
            offset += count
        return answers

    def _conformed(self, table: pa.Table) -> pa.Table:
        """The table checked against (and put in the shape of) the validation input."""
        if self._input_table is None:
            return table
        if self._input_columns is not None:
            return self._input_columns.conform(table)
        return self._conform_tensors(table, self._input_table.schema)

    def predict_batch(
        self, payloads: list[tuple[PayloadKindName | int, bytes | memoryview]]
    ) -> list[batching.Answer | PymlError]:
        """Several requests' payloads: rows merged into few model calls (`batching`)."""
        return batching.predict_batch(self, payloads)

    def predict_table(self, kind: PayloadKindName | int, table: pa.Table) -> pa.Table:
        """The same, for callers that hold Arrow data already (the Spark job's batches)."""
        self._check_kind(kind)
        return self.predict_checked(self._conformed(table))

    def predict_checked(self, table: pa.Table) -> pa.Table:
        """`predict_table` of what `checked_input` returned (batches: checked once, not twice)."""
        if self.kind == "dataframe":
            return self._predict_dataframe(table)
        return self._predict_tensors(table)

    def _check_kind(self, kind: PayloadKindName | int) -> None:
        name = PAYLOAD_KIND_NUMBERS.get(kind) if isinstance(kind, int) else kind
        if name != self.kind:
            got = name or f"payload kind {kind} (unspecified or unknown)"
            raise invalid_input(f"model '{self.name}' takes a {self.kind} payload (got: {got})")

    def _predict_dataframe(self, table: pa.Table) -> pa.Table:
        output = self._predict_frame(codec.table_to_dataframe(table))
        return self._output_table(codec.dataframe_to_table, output)

    def _predict_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        output = self._call_model(df)
        if not isinstance(output, pd.DataFrame):
            raise self._bad_output(f"{type(output).__name__} (expected: a pandas DataFrame)")
        if len(output) != len(df):
            raise self._bad_output(f"{len(output)} rows for {len(df)} input rows")
        return output

    def _output_stream(self, output: pd.DataFrame) -> pa.Buffer | bytes:
        """The model's output frame as a stream; a shape seen before as its known bytes."""
        known = frame_streams.frame_stream(output, self._output_bytes)
        return known if known is not None else self._output_buffer(output)

    def _output_buffer(self, output: pd.DataFrame) -> pa.Buffer:
        return codec.encode_buffer(self._output_table(codec.dataframe_to_table, output))

    def _output_bytes(self, output: pd.DataFrame) -> bytes:
        return bytes(self._output_buffer(output).to_pybytes())

    def _predict_tensors(self, table: pa.Table) -> pa.Table:
        output = self._call_model(codec.table_to_tensors(table))
        if not isinstance(output, Mapping):
            raise self._bad_output(f"{type(output).__name__} (expected: a dict of numpy arrays)")
        return self._output_table(codec.tensors_to_table, output)

    def _call_model(self, model_input: Any) -> Any:
        try:
            with self._lock:
                return self.model.instance.predict(model_input)
        except Exception as exc:
            raise model_error(self.name, exc) from exc

    def _output_table(self, to_table: Callable[[Any], pa.Table], output: Any) -> pa.Table:
        try:
            return to_table(output)
        except PymlError as exc:
            raise self._bad_output(exc.message) from exc

    def _bad_output(self, what: str) -> PymlError:
        return PymlError(ErrorKind.MODEL_ERROR, f"model '{self.name}' returned {what}")

    # --- input checks ------------------------------------------------------------------------

    def _conform_tensors(self, table: pa.Table, expected: pa.Schema) -> pa.Table:
        missing = [name for name in expected.names if name not in table.column_names]
        if missing:
            which = ", ".join(f"'{name}'" for name in missing)
            raise invalid_input(
                f"model '{self.name}': missing tensor {which} "
                f"(expected tensors: {', '.join(expected.names)})"
            )
        for want in expected:
            self._check_tensor(want.name, table.schema.field(want.name).type, want.type)
        return table.select(expected.names)

    def _check_tensor(self, name: str, got: pa.DataType, want: pa.DataType) -> None:
        prefix = f"model '{self.name}': tensor '{name}'"
        want_dtype, want_shape = codec.tensor_shape(name, want)
        try:
            dtype, shape = codec.tensor_shape(name, got)
        except PymlError as exc:
            raise invalid_input(f"model '{self.name}': {exc.message}") from exc
        if dtype != want_dtype:
            raise invalid_input(f"{prefix}: dtype {dtype} (expected: {want_dtype})")
        if len(shape) != len(want_shape) or shape[1:] != want_shape[1:]:
            raise invalid_input(
                f"{prefix}: shape {_shape(shape)} (expected: {_shape(want_shape, batch=True)})"
            )

    # --- metadata and validation -------------------------------------------------------------

    def metadata(self) -> RuntimeMetadata:
        input_schema = self._input_table.schema if self._input_table is not None else None
        output_schema = self._expected_table.schema if self._expected_table is not None else None
        cls = self.model.cls
        return RuntimeMetadata(
            name=self.name,
            version=self.model.config.version,
            kind=self.kind,
            input_schema=codec.schema_to_bytes(input_schema) if input_schema is not None else b"",
            output_schema=codec.schema_to_bytes(output_schema)
            if output_schema is not None
            else b"",
            input_schema_text=_schema_text(input_schema),
            output_schema_text=_schema_text(output_schema),
            runtime_version=__version__,
            python_version=platform.python_version(),
            library_versions=_library_versions(self.model.home),
            model_class=f"{cls.__module__}.{cls.__qualname__}",
            batching=self.model.config.batching,
        )

    def validation_input(self) -> bytes:
        """The stored validation input as a payload of the model's kind."""
        return codec.encode_table(self._require(self._input_table))

    def check_validation_output(self, data: bytes) -> ValidationReport:
        """Compare a payload the model produced with the stored expected outputs."""
        validation = self._require(self.validation)
        config = self.model.config
        if self.kind == "dataframe":
            actual = codec.table_to_dataframe(self._read(data))
            assert isinstance(validation.expected, pd.DataFrame)
            return compare_dataframes(actual, validation.expected, config.rtol, config.atol)
        tensors = codec.table_to_tensors(self._read(data))
        assert isinstance(validation.expected, dict)
        return compare_tensors(tensors, validation.expected, config.rtol, config.atol)

    def run_validation(self) -> ValidationReport:
        """The validation input through `predict_arrow` (the serving path), then compared.

        With batching on, the rows are then also predicted one by one and together
        (`batching.check_batching`): answers that differ fail the validation.
        """
        report = self.check_validation_output(
            self.predict_arrow(self.kind, self.validation_input())
        )
        if not report.passed or not self.model.config.batching.enabled:
            return report
        check: BatchingCheck = batching.check_batching(self)
        return dataclasses.replace(report, passed=check.passed, diff=check.diff, batching=check)

    def input_rows(self) -> pa.Table:
        """The stored validation input as a table (what `validation_input` encodes)."""
        return self._require(self._input_table)

    def _require(self, value: Any) -> Any:
        if value is None:
            raise PymlError(
                ErrorKind.NO_VALIDATION_DATA,
                f"model '{self.name}' has no validation data in {self.model.home}/validation",
            )
        return value

    def _to_table(self, data: pd.DataFrame | Mapping[str, np.ndarray]) -> pa.Table:
        if isinstance(data, pd.DataFrame):
            return codec.dataframe_to_table(data)
        return codec.tensors_to_table(data)


def _shape(shape: tuple[int, ...], batch: bool = False) -> str:
    dims = [str(d) for d in shape]
    if batch and dims:
        dims[0] = "*"
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"


def _schema_text(schema: pa.Schema | None) -> str:
    # Without the pandas metadata blob: the text is for people.
    return str(schema.remove_metadata()) if schema is not None else ""


def _library_versions(home: Path) -> dict[str, str]:
    """The runtime's libraries and those the home's requirements.txt names, as installed."""
    names = list(_RUNTIME_LIBRARIES)
    requirements = home / "requirements.txt"
    if requirements.is_file():
        for line in requirements.read_text(errors="replace").splitlines():
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
            if match and not line.lstrip().startswith(("#", "-")):
                names.append(match.group(1))
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
