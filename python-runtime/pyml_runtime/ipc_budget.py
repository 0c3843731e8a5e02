"""Decoder budgets for one untrusted Arrow IPC stream, checked before pyarrow reads its data.

pyarrow allocates what a stream declares when it reads it: a compressed buffer is decompressed
into a buffer of the size its 8-byte prefix announces, and a schema whose children vectors point
at the same field again and again is expanded into that many fields. So the declared sizes are
read first, from the messages' flatbuffer metadata (`MessageReader` hands out the metadata and
the body without interpreting either), and checked against a `DecodeBudget`:

- columns (fields, nested fields included) and nesting depth, from the schema message;
- record and dictionary batches, rows (the record batches' lengths) and values (every field
  node's length: rows x columns, nested values included), from each batch's metadata;
- decoded bytes: each buffer's length, or for a compressed buffer the uncompressed length in
  its prefix (Arrow IPC spec, "Compression"), plus after the read the logical size of
  string/binary view columns, whose views may all point at the same bytes.

Types that expand further when converted (views, dictionaries, run-end encoding, list views
nested in other types) are refused or limited to top-level columns by `check_types`.

Only the few tables needed are read (Message, Schema, Field, RecordBatch, DictionaryBatch,
BodyCompression: format/Message.fbs and Schema.fbs), by a small bounds-checked flatbuffer
reader: a malformed offset is an INVALID_INPUT, never an IndexError. A deployed model's requests
all send the same schema message, so its outcome is kept (by its bytes and the budget); what
depends on the request (the names and metadata against the stream's size) and every batch are
checked every time.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa

from pyml_runtime.errors import (
    ARROW_ERRORS,
    ErrorKind,
    PymlError,
    describe_arrow_error,
    invalid_input,
    resource_exhausted,
)
from pyml_runtime.fast_frames import CACHE_ENTRIES, MAX_CACHED_SCHEMA_BYTES, BoundedCache
from pyml_runtime.settings import positive_int_setting

ENV_PREFIX = "PYML_RUNTIME_"
# The largest gRPC message the runtime receives: the decoded-bytes cap is derived from it.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
# Message.header union tags (Message.fbs).
_SCHEMA, _DICTIONARY_BATCH, _RECORD_BATCH = 1, 2, 3
# Type union tags with variable-size parts, and of string/binary views (Schema.fbs).
_TIMESTAMP, _UNION = 10, 14
_VIEW_TAGS = frozenset((23, 24))  # BinaryView, Utf8View
# A compressed buffer whose prefix says -1 is stored uncompressed (after the prefix).
_UNCOMPRESSED = -1
_PREFIX_BYTES = 8


@dataclass(frozen=True)
class DecodeBudget:
    """What one request's Arrow stream may declare. Each field is the setting PYML_RUNTIME_<NAME>.

    Decoded bytes: a stream may decode to max(min_decoded_bytes, decoded_bytes_per_byte x its
    own size), never more than max_decoded_bytes (4 x the largest message): a small request
    cannot cost much more memory than its size, which is what the gateway admits by.
    Converting to pandas adds at most a Python object a value for object columns (lists,
    structs, bytes): bounded by max_values.
    """

    max_columns: int = 10_000
    max_depth: int = 32
    max_batches: int = 4_096
    max_rows: int = 1 << 24
    max_values: int = 1 << 27
    max_decoded_bytes: int = 4 * MAX_MESSAGE_BYTES
    min_decoded_bytes: int = 64 << 20
    decoded_bytes_per_byte: int = 16

    def decoded_bytes_limit(self, stream_bytes: int) -> int:
        scaled = max(self.min_decoded_bytes, self.decoded_bytes_per_byte * stream_bytes)
        return min(self.max_decoded_bytes, scaled)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> DecodeBudget:
        """The defaults, each overridden by PYML_RUNTIME_<NAME> (a positive integer)."""
        values: dict[str, int] = {}
        for item in fields(cls):
            value = positive_int_setting(environ, ENV_PREFIX + item.name.upper())
            if value is not None:
                values[item.name] = value
        return cls(**values)


DEFAULT_BUDGET = DecodeBudget()


# --- the stream --------------------------------------------------------------------------------


@dataclass
class _Totals:
    batches: int = 0
    rows: int = 0
    values: int = 0
    decoded_bytes: int = 0


@dataclass(frozen=True)
class StreamCheck:
    """What `check_stream` found: the declared decoded bytes, and about the schema message."""

    decoded_bytes: int
    # The first message's metadata, where pyarrow reads the schema: the only place a stream can
    # name a type (pyarrow refuses a second schema message without reading it).
    schema_message: bytes = b""
    # The schema message's metadata: a key for what depends on the schema alone (None: not
    # cached, too long or no schema message first).
    schema_key: bytes | None = None
    # The top-level columns whose type tag is a string/binary view (see `check_view_sizes`).
    view_columns: tuple[int, ...] = ()


@dataclass(frozen=True)
class _SchemaOutcome:
    """A schema message's check, without the request: it depends on its bytes and the budget."""

    text_bytes: int  # names and metadata counted (up to the error, if any)
    entries: int  # metadata entries counted
    view_columns: tuple[int, ...]
    error: tuple[ErrorKind, str] | None  # the first limit passed, size of the stream aside


# Every request of a deployed model sends the same schema message: its outcome is kept.
_SCHEMAS: BoundedCache[tuple[DecodeBudget, bytes], _SchemaOutcome] = BoundedCache(CACHE_ENTRIES)


def check_stream(data: bytes | memoryview, budget: DecodeBudget) -> StreamCheck:
    """Check every message's declared sizes, the schema's fields, names and metadata."""
    limit = budget.decoded_bytes_limit(len(data))
    totals = _Totals()
    text = _Text(len(data), budget)
    schema_message = b""
    schema_key: bytes | None = None
    view_columns: tuple[int, ...] = ()
    for index, message in enumerate(_messages(data)):
        if index:  # every message after the schema counts, whatever it says it is
            totals.batches += 1
            _at_most("batches", totals.batches, budget.max_batches, "max_batches")
        else:
            metadata = schema_message = message.metadata.to_pybytes()
            outcome = _schema_outcome(metadata, budget)
            if outcome is not None:
                # Per request: what the names and metadata add up to against its size.
                text.resume(outcome.text_bytes, outcome.entries)
                if outcome.error is not None:
                    raise PymlError(*outcome.error)
                if len(metadata) <= MAX_CACHED_SCHEMA_BYTES:
                    schema_key = metadata
                view_columns = outcome.view_columns
                continue
        root = _root(message.metadata)
        text.add_metadata(root, 4)  # Message.custom_metadata: pyarrow reads it for every batch
        header_type = root.scalar(1, "B", 0)
        header = root.table(2)
        if header is None:
            continue  # pyarrow refuses it when it reads the stream
        if header_type in (_RECORD_BATCH, _DICTIONARY_BATCH):
            if header_type == _DICTIONARY_BATCH:
                header = header.table(1)  # DictionaryBatch.data
                if header is None:
                    continue
            else:
                totals.rows += _non_negative(header.scalar(0, "<q", 0), "batch length")
                _at_most("rows", totals.rows, budget.max_rows, "max_rows")
            _add_batch(header, message.body, totals, budget, limit)
    return StreamCheck(totals.decoded_bytes, schema_message, schema_key, view_columns)


def _schema_outcome(metadata: bytes, budget: DecodeBudget) -> _SchemaOutcome | None:
    """A schema message's outcome, cached; None for a first message that is no schema."""
    key = (budget, metadata)
    cacheable = len(metadata) <= MAX_CACHED_SCHEMA_BYTES
    outcome = _SCHEMAS.get(key) if cacheable else None
    if outcome is None:
        outcome = _walk_schema_message(metadata, budget)
        if outcome is not None and cacheable:
            _SCHEMAS.put(key, outcome)
    return outcome


def _walk_schema_message(metadata: bytes, budget: DecodeBudget) -> _SchemaOutcome | None:
    # The text is summed without the stream's size: each request compares it with its own.
    text = _Text(sys.maxsize, budget)
    view_columns: tuple[int, ...] = ()
    try:
        root = _Table.root(metadata)
        text.add_metadata(root, 4)  # Message.custom_metadata
        header = root.table(2)
        if root.scalar(1, "B", 0) != _SCHEMA or header is None:
            return None
        view_columns = check_schema_fields(header, budget, text)
    except PymlError as exc:
        return _SchemaOutcome(text.total, text.entries, (), (exc.kind, exc.message))
    return _SchemaOutcome(text.total, text.entries, view_columns, None)


def _messages(data: bytes | memoryview) -> Iterator[pa.ipc.Message]:
    try:
        reader = pa.ipc.MessageReader.open_stream(pa.py_buffer(data))
        while True:
            try:
                yield reader.read_next_message()
            except StopIteration:
                return
    except ARROW_ERRORS as exc:
        raise invalid_input(describe_arrow_error(exc)) from exc


def _add_batch(
    batch: _Table, body: pa.Buffer | None, totals: _Totals, budget: DecodeBudget, limit: int
) -> None:
    nodes = batch.struct_vector(1, 2)  # FieldNode {length, null_count}
    if nodes.size:
        lengths = nodes[:, 0]
        if lengths.min() < 0:
            raise invalid_input("malformed Arrow IPC stream: a negative field length")
        # Each within the limit first: their sum cannot overflow int64.
        _at_most("values", int(lengths.max()), budget.max_values, "max_values")
        totals.values += int(lengths.sum())
        _at_most("values", totals.values, budget.max_values, "max_values")
    buffers = batch.struct_vector(2, 2)  # Buffer {offset, length}
    compressed = batch.table(3) is not None
    totals.decoded_bytes += _decoded_bytes(buffers, body, compressed, limit)
    _at_most("decoded bytes", totals.decoded_bytes, limit, "max_decoded_bytes", decoded=True)


def _decoded_bytes(
    buffers: np.ndarray, body: pa.Buffer | None, compressed: bool, limit: int
) -> int:
    if not buffers.size:
        return 0
    offsets, lengths = buffers[:, 0], buffers[:, 1]
    if offsets.min() < 0 or lengths.min() < 0:
        raise invalid_input("malformed Arrow IPC stream: a negative buffer offset or length")
    if not compressed:
        if lengths.max() > limit:  # each within the limit: their sum cannot overflow int64
            return int(lengths.max())
        return int(lengths.sum())
    present = lengths > 0  # an empty buffer has no prefix
    offsets, lengths = offsets[present], lengths[present]
    body_bytes = np.frombuffer(body, dtype=np.uint8) if body is not None else np.empty(0, np.uint8)
    if (lengths < _PREFIX_BYTES).any() or (offsets > body_bytes.size - _PREFIX_BYTES).any():
        raise invalid_input(
            "malformed Arrow IPC stream: a compressed buffer without its length prefix"
        )
    # Each buffer starts with its uncompressed length, an int64 little-endian.
    prefix = body_bytes[offsets[:, None] + np.arange(_PREFIX_BYTES)].view("<i8").ravel()
    if (prefix < _UNCOMPRESSED).any():
        raise invalid_input("malformed Arrow IPC stream: a negative uncompressed buffer length")
    sizes = np.where(prefix == _UNCOMPRESSED, lengths - _PREFIX_BYTES, prefix)
    if sizes.max() > limit:
        return int(sizes.max())
    return int(sizes.sum())


# --- the schema --------------------------------------------------------------------------------


def check_schema_message(data: bytes, budget: DecodeBudget) -> None:
    """The fields of an encapsulated schema message (what `pa.ipc.read_schema` reads)."""
    for message in _messages(data):
        root = _root(message.metadata)
        header = root.table(2)
        if root.scalar(1, "B", 0) == _SCHEMA and header is not None:
            check_schema_fields(header, budget, _Text(len(data), budget))
        return


def check_schema_fields(schema: _Table, budget: DecodeBudget, text: _Text) -> tuple[int, ...]:
    """Count fields, depth and text without building them, stopping at the first limit passed.

    Flatbuffer offsets may share a target: a children vector may list one field many times, and
    fields may share one long name, and pyarrow builds (and copies) each reference. So the walk
    stops after max_columns fields, and the text it meets may not add up to more than the
    stream itself: a stream that pyarrow wrote shares nothing.

    Returns the positions of the top-level fields whose type tag is a string/binary view.
    """
    count = 0
    view_columns: list[int] = []
    text.add_metadata(schema, 2)  # Schema.custom_metadata
    # (a table, the id of its vector of fields, the depth of those fields)
    pending = [(schema, 1, 1)]  # Schema.fields
    while pending:
        parent, vector_id, depth = pending.pop()
        children = parent.vector_length(vector_id)
        if not children:
            continue
        count += children  # counted before any is looked at: `pending` stays within the budget
        _at_most(
            "columns (nested fields included)", count, budget.max_columns, "max_columns", size=False
        )
        _at_most("levels of nesting", depth, budget.max_depth, "max_depth", size=False)
        for position, child in enumerate(parent.table_vector(vector_id)):
            if depth == 1 and child.scalar(2, "B", 0) in _VIEW_TAGS:  # Field.type_type
                view_columns.append(position)
            text.add_field(child)
            pending.append((child, 5, depth + 1))  # Field.children
    return tuple(view_columns)


class _Text:
    """The variable-size parts of fields and metadata, summed as pyarrow would copy them."""

    def __init__(self, stream_bytes: int, budget: DecodeBudget) -> None:
        self.limit = stream_bytes
        self.total = 0
        self.entries = 0
        self.max_entries = 4 * budget.max_columns

    def add_field(self, field: _Table) -> None:
        self.add(field.string_length(0))  # Field.name
        self.add_metadata(field, 6)  # Field.custom_metadata
        type_tag, type_table = field.scalar(2, "B", 0), field.table(3)
        if type_table is None:
            return
        if type_tag == _TIMESTAMP:
            self.add(type_table.string_length(1))  # Timestamp.timezone
        elif type_tag == _UNION:
            self.add(4 * type_table.vector_length(1))  # Union.typeIds

    def add_metadata(self, table: _Table, field_id: int) -> None:
        self.entries += table.vector_length(field_id)
        if self.entries > self.max_entries:
            raise invalid_input(
                f"the stream has more than {self.max_entries} metadata entries "
                f"(4 a column at most; limit: {ENV_PREFIX}MAX_COLUMNS)"
            )
        for entry in table.table_vector(field_id):  # KeyValue {key, value}
            self.add(entry.string_length(0) + entry.string_length(1))

    def resume(self, total: int, entries: int) -> None:
        """Carry on from a cached schema message's count."""
        self.total, self.entries = total, entries
        self.add(0)

    def add(self, size: int) -> None:
        self.total += size
        if self.total > self.limit:
            raise invalid_input(
                f"the stream's names and metadata add up to more than its own "
                f"{self.limit} bytes (its fields or messages share them)"
            )


def check_types(column: str, data_type: pa.DataType, top_level: bool) -> None:
    """Refuse the types whose conversion can expand far beyond their declared bytes."""
    if isinstance(data_type, pa.BaseExtensionType):
        data_type = data_type.storage_type
    if pa.types.is_run_end_encoded(data_type) or _is_list_view(data_type):
        raise invalid_input(
            f"column '{column}': {data_type} is not accepted (expected: plain or list types)"
        )
    if not top_level and (pa.types.is_dictionary(data_type) or _is_binary_view(data_type)):
        raise invalid_input(
            f"column '{column}': {data_type} inside a nested type is not accepted "
            "(expected: dictionaries and string/binary views as top-level columns only)"
        )
    if pa.types.is_dictionary(data_type) and _is_binary_view(data_type.value_type):
        raise invalid_input(
            f"column '{column}': {data_type} is not accepted (expected: dictionary values "
            "of a plain type)"
        )


def check_view_sizes(table: pa.Table, columns: tuple[int, ...], declared: int, limit: int) -> None:
    """String/binary views may all point at the same bytes: count what they would copy.

    `columns`: the positions that may be views (`StreamCheck.view_columns`); only those are
    looked at. Runs before the full validation, which would read every view's bytes too.
    """
    total = declared
    for position in columns:
        if _is_binary_view(table.schema.field(position).type):
            total += sum(_view_lengths(chunk) for chunk in table.column(position).chunks)
            _at_most("decoded bytes", total, limit, "max_decoded_bytes", decoded=True)


def _view_lengths(chunk: pa.Array) -> int:
    # Each view is 16 bytes and starts with its int32 length (Arrow columnar format).
    views = chunk.buffers()[1]
    if views is None:
        return 0
    lengths = np.frombuffer(views, dtype="<i4", count=views.size // 4)[::4]
    return int(lengths[chunk.offset : chunk.offset + len(chunk)].clip(min=0).sum(dtype=np.int64))


def _is_binary_view(data_type: pa.DataType) -> bool:
    return bool(pa.types.is_string_view(data_type) or pa.types.is_binary_view(data_type))


def _is_list_view(data_type: pa.DataType) -> bool:
    return bool(pa.types.is_list_view(data_type) or pa.types.is_large_list_view(data_type))


# --- errors ------------------------------------------------------------------------------------


def _at_most(
    what: str, value: int, limit: int, setting: str, *, size: bool = True, decoded: bool = False
) -> None:
    if value <= limit:
        return
    if decoded:
        settings = ", ".join(
            ENV_PREFIX + name.upper()
            for name in ("max_decoded_bytes", "min_decoded_bytes", "decoded_bytes_per_byte")
        )
        what = f"{what} for a stream of its size (limit from {settings})"
    else:
        what = f"{what} (limit: {ENV_PREFIX}{setting.upper()})"
    message = f"the stream has more than {limit} {what}; counted: {value}"
    raise resource_exhausted(message) if size else invalid_input(message)


def _non_negative(value: int, what: str) -> int:
    if value < 0:
        raise invalid_input(f"malformed Arrow IPC stream: a negative {what}")
    return value


# --- a bounds-checked reader of flatbuffer tables ----------------------------------------------


def _malformed(what: str) -> PymlError:
    return invalid_input(f"malformed Arrow IPC stream: metadata {what}")


def _root(metadata: pa.Buffer) -> _Table:
    return _Table.root(metadata.to_pybytes())


class _Table:
    """A flatbuffer table at `pos` of `buf`: fields by id, absent ones give their default."""

    def __init__(self, buf: bytes, pos: int) -> None:
        self.buf = buf
        self.pos = pos
        vtable = pos - _unpack(buf, "<i", pos)
        self.vtable = vtable
        self.vtable_size = _unpack(buf, "<H", vtable)
        if self.vtable_size < 4 or self.vtable_size % 2:
            raise _malformed("has a bad vtable")

    @classmethod
    def root(cls, buf: bytes) -> _Table:
        return cls(buf, cls.uoffset(buf, 0))

    @staticmethod
    def uoffset(buf: bytes, at: int) -> int:
        return at + _unpack(buf, "<I", at)

    def _field(self, field_id: int) -> int | None:
        entry = 4 + 2 * field_id
        if entry + 2 > self.vtable_size:
            return None
        offset = _unpack(self.buf, "<H", self.vtable + entry)
        return self.pos + offset if offset else None

    def scalar(self, field_id: int, fmt: str, default: int) -> int:
        at = self._field(field_id)
        return default if at is None else _unpack(self.buf, fmt, at)

    def table(self, field_id: int) -> _Table | None:
        at = self._field(field_id)
        return None if at is None else _Table(self.buf, self.uoffset(self.buf, at))

    def _vector(self, field_id: int, element_bytes: int) -> tuple[int, int]:
        at = self._field(field_id)
        if at is None:
            return 0, 0
        start = self.uoffset(self.buf, at)
        length = _unpack(self.buf, "<I", start)
        if start + 4 + length * element_bytes > len(self.buf):
            raise _malformed("has a vector past its end")
        return start + 4, length

    def vector_length(self, field_id: int) -> int:
        return self._vector(field_id, 4)[1]

    def string_length(self, field_id: int) -> int:
        """A string's length in bytes; 0 when absent."""
        return self._vector(field_id, 1)[1]

    def struct_vector(self, field_id: int, int64s: int) -> np.ndarray:
        """A vector of structs of `int64s` int64 fields, as an (n, int64s) array."""
        start, length = self._vector(field_id, 8 * int64s)
        values = np.frombuffer(self.buf, dtype="<i8", count=length * int64s, offset=start)
        return values.reshape(length, int64s)

    def table_vector(self, field_id: int) -> Iterator[_Table]:
        start, length = self._vector(field_id, 4)
        for index in range(length):
            at = start + 4 * index
            yield _Table(self.buf, self.uoffset(self.buf, at))


_FORMATS = {fmt: struct.Struct(fmt) for fmt in ("B", "<H", "<i", "<I", "<q")}


def _unpack(buf: bytes, fmt: str, at: int) -> int:
    layout = _FORMATS[fmt]
    if at < 0 or at + layout.size > len(buf):
        raise _malformed("points outside itself")
    value: int = layout.unpack_from(buf, at)[0]
    return value
