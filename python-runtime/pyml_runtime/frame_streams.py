"""Numeric frames ⇄ Arrow IPC streams, for a shape seen before: pyarrow's bytes, new values.

Why. `pyml.Client.predict` of one row spent ~0.3 ms of CPU encoding the request and ~0.35 ms
decoding the answer (in a loop of calls, where every call starts with cold caches): tables,
stream writer and reader, checks and their Python bookkeeping, for a few hundred bytes of
values; the runtime as much around the model. Clients send, and models answer, frames of the
same shape (columns, dtypes, row count) call after call, and for such a frame the stream is the
same bytes each time but for the values.

Encoding. For a frame of plain numbers and bools (numpy dtypes) without NaN, the stream pyarrow
writes is: the schema message, the record batch's metadata, then the body, which is each
column's values one after the other (bools packed 8 a byte, each column padded with zeros to 8
bytes; no validity buffers, as nothing is null), then the end-of-stream marker. The
first frame of a shape is encoded by `codec`'s general road; its stream is checked to be made
exactly so (where the body starts is read from the messages' own lengths), and what precedes
the body is kept as that shape's template. The next frames of that shape are the template,
their values and the marker. A stream not made so marks the shape: it keeps the general road.
(pyarrow writes more of a column's buffer than its values in some shapes, such as 1 row of 3
columns: those keep the general road.) Tests compare both roads' bytes.

Decoding (`FrameLayouts`: the client's, under the default budget, and each runtime dataplane's,
under its own). A stream that was decoded the general way (every check on untrusted bytes) into a
frame of plain numbers and bools without nulls has its layout kept, keyed by all its bytes
before the values (the schema message and the record batch's metadata: column types, row
count, null counts, buffer offsets and sizes). A later stream whose bytes before the values
are the same, and whose length is the same, differs only in the values: any bytes there are
valid numbers, so its frame is made from them at once, the way the general road makes it
(fresh writable blocks, the same column index). A layout is kept only after it decoded its
own stream to the very frame the general road gave. Streams of one layout (a batch of
requests, `batching`) become one frame of all their rows, in the same way.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.internals import create_dataframe_from_blocks  # type: ignore[import-not-found]

from pyml_runtime import fast_frames
from pyml_runtime.errors import ARROW_ERRORS

END_OF_STREAM = b"\xff\xff\xff\xff\x00\x00\x00\x00"
# Larger frames are encoded the general way. A template's stream is two fresh copies of the
# values (`tobytes`, then `join`), and above malloc's mmap threshold (1 MiB in the runtime,
# `memory`) each is new pages, where pyarrow's pool keeps its memory. With 30 float64 columns
# the template took 0.17 ms at 4,000 rows (960 KB) against 0.33-0.50 ms the general way, and
# 4.2-4.9 ms at 10,000 rows (2.4 MB) against 0.8-2.6 ms. Decoding has no such limit: from
# the values it was faster at every size measured (1,000 rows: 23 us against 180 us; 100,000
# rows: 1.7 ms against 3.0 ms), as it makes the one block the general road makes, and a known
# stream is as long as the one that passed every check.
MAX_TEMPLATE_BODY_BYTES = 512 * 1024
_ALIGNMENT = 8  # Arrow IPC pads every buffer of the body to this

_Shape = tuple[tuple[str, ...], tuple[np.dtype[np.generic], ...], int]


@dataclass(frozen=True)
class _Template:
    prefix: bytes | None  # the stream up to the values; None: this shape takes the general road


_TEMPLATES: fast_frames.BoundedCache[_Shape, _Template]
_TEMPLATES = fast_frames.BoundedCache(fast_frames.CACHE_ENTRIES)


# --- encoding --------------------------------------------------------------------------------


def frame_stream(df: pd.DataFrame, encode: Callable[[pd.DataFrame], bytes]) -> bytes | None:
    """`encode(df)` for frames of plain numbers and bools of a shape seen before, up to
    MAX_TEMPLATE_BODY_BYTES of values; else None.

    `encode` is the general road, called for a shape's first frame, whose stream becomes its
    template when it is laid out as the module says (its errors are the caller's).
    """
    streams = row_streams(df, [len(df)], encode)
    return streams[0] if streams is not None else None


def row_streams(
    df: pd.DataFrame, counts: Sequence[int], encode: Callable[[pd.DataFrame], bytes]
) -> list[bytes | None] | None:
    """`frame_stream` of each of the frame's consecutive row slices of `counts` rows (a batch's
    answers), without making the slices' frames: None where the slice takes the general road,
    or None for all when the frame does. The counts add up to the frame's rows."""
    shaped = _shape(df)
    if shaped is None:
        return None
    (names, dtypes, _), parts = shaped
    streams: list[bytes | None] = []
    offset = 0
    for count in counts:
        span = slice(offset, offset + count)
        template = _TEMPLATES.get((names, dtypes, count))
        values = [part[..., span] for part in parts]  # a column's rows, or a block's columns'
        if template is None:
            piece = df if count == len(df) else df.iloc[span]
            stream = encode(piece)
            _TEMPLATES.put((names, dtypes, count), _Template(_prefix(stream, values)))
            streams.append(stream)
        elif template.prefix is None:
            streams.append(None)
        else:
            streams.append(b"".join((template.prefix, *_body(values), END_OF_STREAM)))
        offset += count
    return streams


def _shape(df: pd.DataFrame) -> tuple[_Shape, list[np.ndarray]] | None:
    """The frame's shape and its values (its columns, or one block of them all), when a
    template may hold."""
    if df.attrs or isinstance(df.columns, pd.MultiIndex):
        return None
    rows, count = df.shape
    if not 0 < count <= fast_frames.MAX_FAST_COLUMNS or rows == 0:
        return None
    if rows * count * 8 > MAX_TEMPLATE_BODY_BYTES:
        return None  # large: before any work per column
    names = df.columns.tolist()  # pandas 3's string Index: ~3x faster than iterating it
    if not all(type(name) is str for name in names) or len(set(names)) != count:
        return None
    dtypes: list[np.dtype[np.generic]] = []
    for dtype in fast_frames.column_dtypes(df):
        if not isinstance(dtype, np.dtype) or dtype not in fast_frames.FAST_DTYPES:
            return None
        dtypes.append(dtype)
    if dtypes[0].kind != "b" and all(dtype == dtypes[0] for dtype in dtypes):
        # One dtype (one block, usually): all of it at once, column after column.
        block = np.ascontiguousarray(df.to_numpy().T)
        if block.dtype.kind == "f" and np.isnan(block).any():
            return None  # NaN becomes null in Arrow: the stream has validity buffers
        return (tuple(names), tuple(dtypes), rows), [block]
    columns: list[np.ndarray] = []
    for values in fast_frames.column_arrays(df):
        if not isinstance(values, np.ndarray):
            return None
        if values.dtype.kind == "f" and np.isnan(values).any():
            return None
        columns.append(values)
    return (tuple(names), tuple(dtypes), rows), columns


def _body(parts: list[np.ndarray]) -> list[bytes]:
    """The body's bytes: each part a column, or a (columns, rows) block of one dtype."""
    body = []
    for values in parts:
        if values.dtype.kind == "b":  # Arrow packs bools 8 a byte, the first in the lowest bit
            body += _padded(np.packbits(values, bitorder="little").tobytes())
        elif values.ndim == 1:
            body += _padded(np.ascontiguousarray(values).tobytes())
        elif values.shape[1] * values.itemsize % _ALIGNMENT == 0:
            body.append(values.tobytes())  # its columns need no padding: one piece
        else:
            for column in values:
                body += _padded(column.tobytes())
    return body


def _padded(raw: bytes) -> list[bytes]:
    short = len(raw) % _ALIGNMENT
    return [raw, bytes(_ALIGNMENT - short)] if short else [raw]


def _prefix(stream: bytes, columns: list[np.ndarray]) -> bytes | None:
    """The stream's schema message and batch metadata, if its body is exactly `columns`.

    The metadata's end is read from the stream's own message lengths: a body that merely ends
    with the values (pyarrow may write a sliced column's whole buffer) is not one.
    """
    head = _head(stream)
    if head is None or stream[len(head) :] != b"".join((*_body(columns), END_OF_STREAM)):
        return None
    return head


# --- decoding --------------------------------------------------------------------------------

_CONTINUATION = 0xFFFFFFFF
_MESSAGE_HEAD = struct.Struct("<Ii")  # the continuation marker, then the metadata's length


@dataclass(frozen=True)
class _Block:
    dtype: np.dtype[np.generic]
    placement: tuple[int, ...]  # the block's columns' positions in the frame
    offsets: tuple[int, ...]  # where each of those columns' values start in the stream
    adjacent: bool  # the columns' values lie one after the other, unpadded: one read for all


@dataclass(frozen=True)
class _Layout:
    size: int  # the whole stream's length
    rows: int
    columns: pd.Index
    blocks: tuple[_Block, ...]
    schema: bytes  # the schema message: streams with the same one stack, whatever their rows

    def stacks_with(self, other: _Layout) -> bool:
        return self is other or (
            self.schema == other.schema
            and [(b.dtype, b.placement) for b in self.blocks]
            == [(b.dtype, b.placement) for b in other.blocks]
        )


@dataclass(frozen=True)
class _Learned:
    layout: _Layout | None  # None: streams with this head take the general road


@dataclass(frozen=True)
class KnownStream:
    """A stream laid out as one the general road decoded: its frame is made from its values."""

    data: bytes | memoryview
    layout: _Layout

    @property
    def rows(self) -> int:
        return self.layout.rows


class FrameLayouts:
    """The layouts of streams decoded the general way, under one decode budget: those streams'
    bytes passed every check, so the same bytes before other values would pass them too."""

    def __init__(self, entries: int = fast_frames.CACHE_ENTRIES) -> None:
        self._learned: fast_frames.BoundedCache[bytes, _Learned] = fast_frames.BoundedCache(entries)

    def frame(self, data: bytes | memoryview) -> pd.DataFrame | None:
        """The frame of a stream laid out as one learned; else None (the general road)."""
        known = self.known(data)
        return stacked([known]) if known is not None else None

    def known(self, data: bytes | memoryview) -> KnownStream | None:
        """The stream, when it is laid out as one learned; else None (the general road)."""
        key = _head(data)
        return _known(data, self._learned.get(key)) if key is not None else None

    def learn(
        self, data: bytes | memoryview, frame: Callable[[], pd.DataFrame]
    ) -> KnownStream | None:
        """Keeps the layout of a stream the general road decoded (all checks done) into
        `frame()`, before anyone else touched that frame; `frame` is called only when this
        stream's head was not learned yet. The stream, when it is now known."""
        key = _head(data)
        if key is None:
            return None
        learned = self._learned.get(key)
        if learned is None:
            learned = _Learned(_layout(data, len(key), frame()))
            self._learned.put(key, learned)
        return _known(data, learned)


def _known(data: bytes | memoryview, learned: _Learned | None) -> KnownStream | None:
    layout = learned.layout if learned is not None else None
    if layout is None or len(data) != layout.size or bytes(data[-8:]) != END_OF_STREAM:
        return None
    return KnownStream(data, layout)


def _head(data: bytes | memoryview) -> bytes | None:
    """The stream's bytes before the first record batch's body: two messages' metadata."""
    end = 0
    for _ in range(2):  # the schema message (no body), then the record batch's metadata
        if len(data) < end + _MESSAGE_HEAD.size:
            return None
        marker, length = _MESSAGE_HEAD.unpack_from(data, end)
        end += _MESSAGE_HEAD.size + length
        if marker != _CONTINUATION or length <= 0 or end > len(data):
            return None
    if end > fast_frames.MAX_CACHED_SCHEMA_BYTES:
        return None
    return bytes(data[:end])


def _layout(data: bytes | memoryview, start: int, frame: pd.DataFrame) -> _Layout | None:
    """Where each column's values lie, if the stream is one batch of plain columns, no nulls."""
    body = len(data) - start - len(END_OF_STREAM)
    if body <= 0 or bytes(data[-8:]) != END_OF_STREAM:
        return None
    stream = pa.py_buffer(data)
    try:
        batch = _only_batch(stream, body)
    except ARROW_ERRORS:
        return None
    if batch is None or batch.num_columns != frame.shape[1] or batch.num_rows != len(frame):
        return None
    positions: dict[np.dtype[np.generic], list[tuple[int, int]]] = {}
    for j, column in enumerate(batch.columns):
        dtype = fast_frames.FAST_ARROW_TYPES.get(column.type)
        if dtype is None or column.null_count or column.offset:
            return None
        validity, values = column.buffers()  # a plain number or bool column has these two
        if validity is not None:
            return None
        positions.setdefault(dtype, []).append((j, values.address - stream.address))
    blocks = tuple(_block(dtype, spots, batch.num_rows) for dtype, spots in positions.items())
    # Its own copy of the labels: the caller may rename the frame's columns.
    columns = fast_frames.shallow_copy(frame.columns)
    schema = bytes(data[: _MESSAGE_HEAD.size + _MESSAGE_HEAD.unpack_from(data)[1]])
    layout = _Layout(len(data), batch.num_rows, columns, blocks, schema)
    made = _frame([KnownStream(data, layout)])
    same = (
        not frame.attrs
        and isinstance(frame.index, pd.RangeIndex)
        and frame.index.start == 0
        and made.columns.equals(frame.columns)
        and made.dtypes.tolist() == frame.dtypes.tolist()
        and made.equals(frame)
    )
    return layout if same else None


def _block(dtype: np.dtype[np.generic], spots: list[tuple[int, int]], rows: int) -> _Block:
    offsets = tuple(offset for _, offset in spots)
    step = rows * dtype.itemsize
    adjacent = dtype.kind != "b" and all(
        offset == offsets[0] + i * step for i, offset in enumerate(offsets)
    )
    return _Block(dtype, tuple(j for j, _ in spots), offsets, adjacent)


def _only_batch(buffer: pa.Buffer, body: int) -> pa.RecordBatch | None:
    """The stream's one record batch, when nothing but the schema precedes or follows it."""
    reader = pa.ipc.MessageReader.open_stream(buffer)
    schema_message = reader.read_next_message()
    message = reader.read_next_message()
    if schema_message.type != "schema" or message.type != "record batch":
        return None
    if message.body is None or message.body.size != body:
        return None
    try:
        reader.read_next_message()
        return None  # more than one batch, or a dictionary
    except StopIteration:
        pass
    return pa.ipc.read_record_batch(message, pa.ipc.read_schema(schema_message))


def stacked(streams: Sequence[KnownStream]) -> pd.DataFrame:
    """One frame of the streams' rows, in order: the frame the general road makes of their
    tables concatenated. The streams' layouts stack (`_Layout.stacks_with`)."""
    first = streams[0].layout
    if not all(stream.layout.stacks_with(first) for stream in streams):
        raise ValueError("streams of different schemas cannot be stacked")
    return _frame(streams)


def _frame(streams: Sequence[KnownStream]) -> pd.DataFrame:
    first = streams[0].layout
    total = sum(stream.layout.rows for stream in streams)
    blocks = []
    for b, block in enumerate(first.blocks):
        count = len(block.placement)
        values = np.empty((count, total), dtype=block.dtype)  # fresh and writable, as pandas'
        start = 0
        for stream in streams:
            rows = stream.layout.rows
            _read_block(values[:, start : start + rows], stream.data, stream.layout.blocks[b])
            start += rows
        blocks.append((values, np.array(block.placement, dtype=np.intp)))
    frame: pd.DataFrame = create_dataframe_from_blocks(
        blocks, index=pd.RangeIndex(total), columns=fast_frames.shallow_copy(first.columns)
    )
    return frame


def _read_block(into: np.ndarray, data: bytes | memoryview, block: _Block) -> None:
    """The block's values in the stream, into a (columns, rows) array."""
    count, rows = into.shape
    if block.adjacent:  # the usual case (one dtype, no padding): one read
        flat = np.frombuffer(data, dtype=block.dtype, count=count * rows, offset=block.offsets[0])
        into[...] = flat.reshape(count, rows)
        return
    for i, offset in enumerate(block.offsets):
        into[i] = _column(data, block.dtype, rows, offset)


def _column(
    data: bytes | memoryview, dtype: np.dtype[np.generic], rows: int, offset: int
) -> np.ndarray:
    if dtype.kind == "b":  # Arrow packs bools 8 a byte, the first in the lowest bit
        packed = np.frombuffer(data, dtype=np.uint8, count=(rows + 7) // 8, offset=offset)
        return np.unpackbits(packed, count=rows, bitorder="little")
    return np.frombuffer(data, dtype=dtype, count=rows, offset=offset)
