"""Arrow IPC streams ⇄ pandas DataFrames and named numpy arrays; the one reader of untrusted bytes.

DataFrame payload: one Arrow IPC *stream* whose columns are the DataFrame's columns. Column
names, dtypes, nulls (nullable ``Int64``/``boolean``/``string`` included), categoricals and
time-zone-aware timestamps survive the round trip, helped by the ``pandas`` schema metadata
that ``pyarrow`` writes. The index is NOT stored (``preserve_index=False``): a non-default index
is dropped and the decoded frame has a fresh ``RangeIndex``. Object columns of Python strings
come back as pandas' ``str`` dtype; non-string column labels come back as strings.

Tensors payload: one Arrow IPC stream with exactly ONE row. Each column is one named tensor of
the canonical ``arrow.fixed_shape_tensor`` extension type whose ``shape`` is the tensor's full
shape (leading dimension included) and whose ``value_type`` is its dtype; the one cell holds the
values in C (row-major) order. A 0-d tensor has ``shape=[]`` and one value: pyarrow 26 reads and
writes that shape losslessly, so no stand-in encoding is needed. Zero-size tensors (a 0 in the
shape) are supported. Numeric (int, uint, float) and bool dtypes only; tensors with a
``permutation`` are refused (nothing PyML writes has one). ``dim_names`` are ignored.

Untrusted bytes go through `read_table` only: the sizes a stream declares are checked against a
`DecodeBudget` before pyarrow reads it (`ipc_budget`), every Arrow error becomes INVALID_INPUT,
the data is validated in full, and no extension type but ``arrow.fixed_shape_tensor`` is
accepted. pyarrow 26 no longer has ``PyExtensionType``, so a field that says
``arrow.py_extension_type`` arrives as its storage type with its extension metadata kept, and
is refused here. Extension types that Python code registered in this process would be
*deserialized* (their code runs) while the schema is read, so their names are looked for in the
raw bytes and refused before pyarrow sees them.

Fast paths for plain numeric frames live in `fast_frames` (same results, less time).
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterator, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from pyml_runtime import fast_frames, frame_streams, ipc_budget
from pyml_runtime.errors import ARROW_ERRORS, PymlError, describe_arrow_error, invalid_input
from pyml_runtime.fast_frames import CACHE_ENTRIES, BoundedCache
from pyml_runtime.ipc_budget import DEFAULT_BUDGET, DecodeBudget

TENSOR_EXTENSION = "arrow.fixed_shape_tensor"
_EXTENSION_NAME_KEY = b"ARROW:extension:name"
# Streams of tables this large (rows x columns: about 256 KiB of 8-byte values) are measured
# first, then written into a buffer of their size.
_PRESIZE_FROM_CELLS = 32 * 1024
# An error names this many duplicate column names at most.
_SHOWN_DUPLICATES = 10
# `_check_schema`'s verdict by schema message (`StreamCheck.schema_key`): "" for accepted, else
# the INVALID_INPUT message.
_SCHEMA_VERDICTS: BoundedCache[bytes, str] = BoundedCache(CACHE_ENTRIES)
# decode_dataframe's (pyml.Client's answers): streams it decoded under the default budget.
_DEFAULT_BUDGET_LAYOUTS = frame_streams.FrameLayouts()


# --- untrusted bytes -------------------------------------------------------------------------


def read_table(data: bytes | memoryview, budget: DecodeBudget = DEFAULT_BUDGET) -> pa.Table:
    """Read one Arrow IPC stream from untrusted bytes; any problem is INVALID_INPUT.

    The table's buffers are views of `data` (no copy): a memoryview keeps its message alive.

    Over a size budget (batches, rows, values, decoded bytes) it is RESOURCE_EXHAUSTED.
    """
    if not data:
        raise invalid_input("empty payload (expected: an Arrow IPC stream)")
    # Every message's declared sizes first: nothing is decompressed or built before.
    checked = ipc_budget.check_stream(data, budget)
    _refuse_python_extension_names(checked.schema_message)
    try:
        reader = pa.ipc.open_stream(pa.py_buffer(data))
        # Check the schema before reading any batch: refuse early, allocate nothing.
        _check_schema_once(reader.schema, checked.schema_key)
        table = reader.read_all()
        ipc_budget.check_view_sizes(
            table,
            checked.view_columns,
            checked.decoded_bytes,
            budget.decoded_bytes_limit(len(data)),
        )
        table.validate(full=True)
    except ARROW_ERRORS as exc:
        raise invalid_input(describe_arrow_error(exc)) from exc
    return table


def _refuse_python_extension_names(schema_message: bytes) -> None:
    # A flatbuffers string is stored as <uint32 length><bytes><NUL>: if a registered Python
    # extension type's name is in the schema, these exact bytes are in its message. Only the
    # schema message: a value in a batch's body may hold the same bytes and names no type.
    for ext_type in _python_extension_types():
        name = str(ext_type.extension_name).encode()
        if struct.pack("<I", len(name)) + name + b"\0" in schema_message:
            raise invalid_input(
                f"extension type '{name.decode()}' is not accepted (expected: {TENSOR_EXTENSION})"
            )


def _python_extension_types() -> list[pa.ExtensionType]:
    # Private in pyarrow; without it only the post-read check below applies.
    registry = getattr(pa.lib, "_python_extension_types_registry", [])
    return list(registry)


def _check_schema_once(schema: pa.Schema, key: bytes | None) -> None:
    """`_check_schema`, whose verdict is kept by schema message: it depends on nothing else."""
    verdict = _SCHEMA_VERDICTS.get(key) if key is not None else None
    if verdict is None:
        try:
            _check_schema(schema)
            verdict = ""
        except PymlError as exc:
            verdict = exc.message
        if key is not None:
            _SCHEMA_VERDICTS.put(key, verdict)
    if verdict:
        raise invalid_input(verdict)


def _check_schema(schema: pa.Schema) -> None:
    names = schema.names
    if len(set(names)) != len(names):
        raise invalid_input(f"duplicate column names: {_duplicates(names)}")
    for field in schema:
        if field.metadata is None and pa.types.is_primitive(field.type):
            continue  # no nested fields, not an extension, no extension name: nothing to refuse
        # (run-end, list-view, dictionary and view types are never primitive)
        ipc_budget.check_types(field.name, field.type, top_level=True)
        for position, nested in enumerate(_walk_fields(field)):
            if position:  # 0 is the column itself
                ipc_budget.check_types(field.name, nested.type, top_level=False)
            _check_extension(field.name, nested)


def _duplicates(names: list[str]) -> str:
    """The names found more than once (linear: Counter, not names.count in a loop)."""
    duplicates = sorted(name for name, count in Counter(names).items() if count > 1)
    shown = ", ".join(map(repr, duplicates[:_SHOWN_DUPLICATES]))
    hidden = len(duplicates) - _SHOWN_DUPLICATES
    return f"{shown} and {hidden} more" if hidden > 0 else shown


def _walk_fields(field: pa.Field) -> Iterator[pa.Field]:
    """The field and every field nested in its type (struct, list, map, dictionary values)."""
    yield field
    data_type = field.type
    if isinstance(data_type, pa.BaseExtensionType):
        data_type = data_type.storage_type
    if pa.types.is_dictionary(data_type):
        yield from _walk_fields(pa.field("values", data_type.value_type))
        return
    for index in range(data_type.num_fields):
        yield from _walk_fields(data_type.field(index))


def _check_extension(column: str, field: pa.Field) -> None:
    name: str | None = None
    if isinstance(field.type, pa.BaseExtensionType):
        name = str(field.type.extension_name)
    elif field.metadata and _EXTENSION_NAME_KEY in field.metadata:
        # An extension pyarrow does not know: it kept the name as metadata.
        name = field.metadata[_EXTENSION_NAME_KEY].decode(errors="replace")
    if name is not None and name != TENSOR_EXTENSION:
        raise invalid_input(
            f"column '{column}': extension type '{name}' is not accepted "
            f"(expected: {TENSOR_EXTENSION} or a plain Arrow type)"
        )


# --- tables and schemas ----------------------------------------------------------------------


def encode_table(table: pa.Table) -> bytes:
    return bytes(encode_buffer(table).to_pybytes())


def encode_buffer(table: pa.Table) -> pa.Buffer:
    """`encode_table`'s stream in the Arrow buffer it was written to: a server copies it once,
    into its answer's message (bytes would be one more copy)."""
    if table.num_rows * table.num_columns < _PRESIZE_FROM_CELLS:
        sink = pa.BufferOutputStream()
        _write_stream(table, sink)
        return sink.getvalue()
    # Large: measure the stream first (no data is copied), then write it once into a buffer of
    # that size, rather than into one that grows (and copies) as it fills.
    mock = pa.MockOutputStream()
    _write_stream(table, mock)
    buffer = pa.allocate_buffer(mock.size())
    _write_stream(table, pa.FixedSizeBufferWriter(buffer))
    return buffer


def _write_stream(table: pa.Table, sink: pa.NativeFile) -> None:
    with pa.ipc.new_stream(sink, table.schema) as writer:
        if table.num_rows or not table.num_columns:
            writer.write_table(table)
        else:
            # An empty table writes no batch, hence no dictionary: categories would be lost.
            writer.write_batch(_empty_batch(table))


def _empty_batch(table: pa.Table) -> pa.RecordBatch:
    arrays = [
        column.chunks[0] if column.num_chunks else pa.array([], type=column.type)
        for column in table.columns
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=table.schema)


def schema_to_bytes(schema: pa.Schema) -> bytes:
    """The schema as an Arrow IPC schema message."""
    return bytes(schema.serialize().to_pybytes())


def schema_from_bytes(data: bytes, budget: DecodeBudget = DEFAULT_BUDGET) -> pa.Schema:
    ipc_budget.check_schema_message(data, budget)
    try:
        schema = pa.ipc.read_schema(pa.py_buffer(data))
    except ARROW_ERRORS as exc:
        raise invalid_input(describe_arrow_error(exc, "malformed Arrow schema")) from exc
    _check_schema(schema)
    return schema


# --- DataFrames ------------------------------------------------------------------------------


def dataframe_to_table(df: pd.DataFrame) -> pa.Table:
    if not isinstance(df, pd.DataFrame):
        raise invalid_input(f"{type(df).__name__} (expected: a pandas DataFrame)")
    if not _unique_labels(df.columns):
        duplicates = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise invalid_input(f"duplicate column names: {', '.join(map(repr, duplicates))}")
    try:
        # Whatever goes wrong on the fast path, the general one decides (and names the error).
        table = fast_frames.numeric_frame_to_table(df)
    except ARROW_ERRORS:
        table = None
    if table is not None:
        return table
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except ARROW_ERRORS as exc:
        raise invalid_input(
            describe_arrow_error(exc, "cannot convert the DataFrame to Arrow")
        ) from exc


def _unique_labels(columns: pd.Index) -> bool:
    """`columns.is_unique`, without building the Index's hash table for string labels.

    A model's output frame is new every call, so is its column Index: is_unique would build
    its lookup table each time (~85 µs for 2 columns); a set of the labels takes ~1 µs.
    """
    labels = columns.tolist()  # pandas 3's string Index: ~3x faster than iterating it
    if all(type(label) is str for label in labels):
        return len(set(labels)) == len(labels)
    return bool(columns.is_unique)


def table_to_dataframe(table: pa.Table) -> pd.DataFrame:
    try:
        # Whatever goes wrong on the fast path, the general one decides (and names the error).
        fast = fast_frames.numeric_table_to_frame(table)
    except ARROW_ERRORS:
        fast = None
    if fast is not None:
        return fast
    for field in table.schema:
        if isinstance(field.type, pa.BaseExtensionType):
            raise invalid_input(
                f"column '{field.name}' is a tensor (expected: a DataFrame column; "
                "send tensors as a tensors payload)"
            )
    try:
        df: pd.DataFrame = table.to_pandas()
        return df
    except ARROW_ERRORS as exc:
        raise invalid_input(
            describe_arrow_error(exc, "cannot convert the Arrow data to pandas")
        ) from exc


def encode_dataframe(df: pd.DataFrame) -> bytes:
    """One Arrow IPC stream; the index is dropped (see the module docstring)."""
    if isinstance(df, pd.DataFrame):
        stream = frame_streams.frame_stream(df, _encode_dataframe)
        if stream is not None:
            return stream
    return _encode_dataframe(df)


def _encode_dataframe(df: pd.DataFrame) -> bytes:
    return encode_table(dataframe_to_table(df))


def decode_dataframe(data: bytes, budget: DecodeBudget = DEFAULT_BUDGET) -> pd.DataFrame:
    # A stream laid out as one decoded before under the same (default) budget: its values only.
    known = budget is DEFAULT_BUDGET
    frame = _DEFAULT_BUDGET_LAYOUTS.frame(data) if known else None
    if frame is None:
        frame = table_to_dataframe(read_table(data, budget))
        if known:
            _DEFAULT_BUDGET_LAYOUTS.learn(data, lambda: frame)
    return frame


# --- tensors ---------------------------------------------------------------------------------


def tensors_to_table(tensors: Mapping[str, np.ndarray]) -> pa.Table:
    if not isinstance(tensors, Mapping):
        raise invalid_input(f"{type(tensors).__name__} (expected: a dict of numpy arrays)")
    names: list[str] = []
    columns: list[pa.Array] = []
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise invalid_input(f"tensor name {name!r} is a {type(name).__name__} (expected: str)")
        names.append(name)
        columns.append(_tensor_to_array(name, value))
    return pa.Table.from_arrays(columns, names=names)


def _tensor_to_array(name: str, value: object) -> pa.ExtensionArray:
    if not isinstance(value, np.ndarray | np.generic):
        raise invalid_input(f"tensor '{name}': {type(value).__name__} (expected: a numpy array)")
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise invalid_input(
            f"tensor '{name}': dtype {array.dtype} is not supported "
            "(expected: a numeric or bool dtype)"
        )
    value_type = pa.from_numpy_dtype(array.dtype)
    tensor_type = pa.fixed_shape_tensor(value_type, list(array.shape))
    # ravel keeps 0-d tensors (ascontiguousarray would make them 1-d) and copies only if needed.
    values = pa.array(np.ravel(array, order="C"), type=value_type)
    # from_buffers, not FixedSizeListArray.from_arrays: the latter divides by a list size of 0.
    storage = pa.Array.from_buffers(tensor_type.storage_type, 1, [None], children=[values])
    return pa.ExtensionArray.from_storage(tensor_type, storage)


def table_to_tensors(table: pa.Table) -> dict[str, np.ndarray]:
    if table.num_columns and table.num_rows != 1:
        raise invalid_input(
            f"a tensors payload has {table.num_rows} rows (expected: 1 row, one tensor a column)"
        )
    return {
        field.name: _column_to_tensor(field.name, table.column(i))
        for i, field in enumerate(table.schema)
    }


def tensor_shape(name: str, data_type: pa.DataType) -> tuple[np.dtype[np.generic], tuple[int, ...]]:
    """The numpy dtype and full shape an `arrow.fixed_shape_tensor` column type describes."""
    if not isinstance(data_type, pa.FixedShapeTensorType):
        raise invalid_input(f"column '{name}': {data_type} (expected: {TENSOR_EXTENSION})")
    permutation = data_type.permutation
    if permutation is not None and list(permutation) != sorted(permutation):
        raise invalid_input(f"tensor '{name}': permuted tensors are not supported")
    value_type = data_type.value_type
    if not (
        pa.types.is_integer(value_type)
        or pa.types.is_floating(value_type)
        or pa.types.is_boolean(value_type)
    ):
        raise invalid_input(
            f"tensor '{name}': values of type {value_type} (expected: a numeric or bool type)"
        )
    return np.dtype(value_type.to_pandas_dtype()), tuple(int(d) for d in data_type.shape)


def _column_to_tensor(name: str, column: pa.ChunkedArray) -> np.ndarray:
    dtype, shape = tensor_shape(name, column.type)
    cell = column.combine_chunks()
    if cell.null_count:
        raise invalid_input(f"tensor '{name}' is null (expected: an array)")
    values = cell.storage.flatten()
    if values.null_count:
        raise invalid_input(f"tensor '{name}' has null elements (expected: none)")
    # A copy: the model gets a writable array that owns its memory, not a view of the request.
    flat = np.array(values.to_numpy(zero_copy_only=False), dtype=dtype, copy=True)
    return flat.reshape(shape)


def encode_tensors(tensors: Mapping[str, np.ndarray]) -> bytes:
    return encode_table(tensors_to_table(tensors))


def decode_tensors(data: bytes, budget: DecodeBudget = DEFAULT_BUDGET) -> dict[str, np.ndarray]:
    return table_to_tensors(read_table(data, budget))
