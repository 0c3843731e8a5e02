"""Hostile Arrow IPC streams, each small to build and small to send, for the decoder tests.

Each one declares far more than it carries: the runtime must refuse it from what it declares,
before it allocates what it declares.
"""

from __future__ import annotations

import struct

import numpy as np
import pyarrow as pa

BOMB_DECLARED_BYTES = 1_600_000_000


def stream(*batches: pa.RecordBatch, compression: str | None = None) -> bytes:
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression=compression)
    with pa.ipc.new_stream(sink, batches[0].schema, options=options) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return bytes(sink.getvalue().to_pybytes())


def zstd_bomb(declared: int = BOMB_DECLARED_BYTES) -> bytes:
    """A zstd-compressed column of 1,000 zeros whose buffer says it decompresses to `declared`.

    Arrow allocates the uncompressed length that the buffer's 8-byte prefix announces before
    it decompresses: this is what a real 49 KB bomb of 1.6 GB of zeros makes it do, without
    the test building 1.6 GB.
    """
    zeros = pa.record_batch({"x": np.zeros(1000, dtype=np.int64)})
    data = stream(zeros, compression="zstd")
    prefix = struct.pack("<q", 8 * 1000)
    assert data.count(prefix) == 1, "the data buffer's length prefix is not unique"
    return data.replace(prefix, struct.pack("<q", declared))


def many_batches(count: int = 35_000) -> bytes:
    one = pa.record_batch({"x": pa.array([1.0])})
    return stream(*([one] * count))


def duplicate_names(count: int = 40_000) -> bytes:
    """`count` columns, each name twice: main's quadratic check took 28 s of CPU on these."""
    column = pa.array([1], pa.int8())
    names = [f"column_{index % (count // 2):06d}" for index in range(count)]
    return stream(pa.record_batch([column] * count, names=names))


def deep_nesting(depth: int = 40) -> bytes:
    """One row of `depth` lists nested in each other around one int64."""
    array: pa.Array = pa.array([1], pa.int64())
    for _ in range(depth):
        array = pa.ListArray.from_arrays(pa.array([0, 1], pa.int32()), array)
    return stream(pa.record_batch({"deep": array}))


def null_rows(rows: int = 1 << 30) -> bytes:
    """A null column has no buffers: a billion rows cost a few bytes (and 8 GB as pandas)."""
    return stream(pa.record_batch({"nothing": pa.nulls(rows)}))


def shared_string_views(views: int = 60_000, size: int = 1 << 20) -> bytes:
    """`views` string views all pointing at the same `size` bytes: 60 GB as strings, 2 MB sent."""
    data = pa.py_buffer(b"x" * size)
    view = struct.pack("<i4sii", size, b"xxxx", 0, 0)  # length, prefix, buffer index, offset
    array = pa.Array.from_buffers(pa.string_view(), views, [None, pa.py_buffer(view * views), data])
    return stream(pa.record_batch({"s": array}))


def list_of_dictionary(rows: int = 1_000, size: int = 1 << 20) -> bytes:
    """A list of dictionary-encoded strings: every element is the same `size` bytes string."""
    indices = pa.array(np.zeros(rows, dtype=np.int32))
    dictionary = pa.DictionaryArray.from_arrays(indices, pa.array(["x" * size]))
    lists = pa.ListArray.from_arrays(pa.array([0, rows], pa.int32()), dictionary)
    return stream(pa.record_batch({"l": lists}))


# --- a schema written by hand: what pyarrow's writer never produces ----------------------------


class _Flatbuffer:
    """Writes a flatbuffer front to back: every offset points forward, resolved at the end."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.labels: dict[str, int] = {}
        self.fixups: list[tuple[int, str]] = []

    def align(self, size: int) -> None:
        self.buf += bytes(-len(self.buf) % size)

    def here(self, label: str) -> None:
        self.labels[label] = len(self.buf)

    def offset_to(self, label: str) -> None:
        self.fixups.append((len(self.buf), label))
        self.buf += bytes(4)

    def table(self, label: str, fields: list[tuple[int, str, int | str]]) -> None:
        """fields: (field id, struct format or "offset", value or label), in layout order."""
        inline: list[tuple[int, int]] = []  # (field id, position in the table)
        position = 4  # after the soffset to the vtable
        for field_id, fmt, _ in fields:
            size = 4 if fmt == "offset" else struct.calcsize(fmt)
            position += -position % size
            inline.append((field_id, position))
            position += size
        slots = [0] * (max((f for f, _ in inline), default=-1) + 1)
        for field_id, at in inline:
            slots[field_id] = at
        self.align(2)
        vtable = len(self.buf)
        self.buf += struct.pack(f"<HH{len(slots)}H", 4 + 2 * len(slots), position, *slots)
        self.align(8)
        start = len(self.buf)
        self.here(label)
        self.buf += struct.pack("<i", start - vtable)
        for (_, fmt, value), (_, at) in zip(fields, inline, strict=True):
            self.buf += bytes(start + at - len(self.buf))
            if fmt == "offset":
                assert isinstance(value, str)
                self.offset_to(value)
            else:
                self.buf += struct.pack(fmt, value)

    def vector_of_offsets(self, label: str, targets: list[str]) -> None:
        self.align(4)
        self.here(label)
        self.buf += struct.pack("<I", len(targets))
        for target in targets:
            self.offset_to(target)

    def string(self, label: str, text: str) -> None:
        self.align(4)
        self.here(label)
        data = text.encode()
        self.buf += struct.pack("<I", len(data)) + data + b"\0"

    def finish(self) -> bytes:
        for at, label in self.fixups:
            struct.pack_into("<I", self.buf, at, self.labels[label] - at)
        self.align(8)
        return bytes(self.buf)


_STRUCT, _INT = 13, 2  # Type union tags (Schema.fbs)
_SCHEMA_HEADER, _V5 = 1, 4


def shared_children_schema(fan_out: int = 10, depth: int = 5, name_bytes: int = 1) -> bytes:
    """A stream of a few hundred bytes (and the name) whose schema has fan_out ** depth fields.

    Each struct field's children vector lists the same child `fan_out` times: flatbuffers let
    offsets share a target, and pyarrow builds a field for every reference, copying its name.
    (pyarrow's flatbuffer verifier visits at most 8 tables a byte of metadata: padding makes
    room for them.)
    """
    fb = _Flatbuffer()
    fb.offset_to("message")
    fb.table(
        "message",
        [(3, "<q", 0), (0, "<h", _V5), (1, "<B", _SCHEMA_HEADER), (2, "offset", "schema")],
    )
    fb.table("schema", [(1, "offset", "top")])
    fb.vector_of_offsets("top", ["field0"])
    for level in range(depth):
        fb.table(
            f"field{level}",
            [
                (0, "offset", "name"),
                (1, "<B", 1),
                (2, "<B", _STRUCT),
                (3, "offset", "struct"),
                (5, "offset", f"children{level}"),
            ],
        )
        fb.vector_of_offsets(f"children{level}", [f"field{level + 1}"] * fan_out)
    fb.table(
        f"field{depth}",
        [(0, "offset", "name"), (1, "<B", 1), (2, "<B", _INT), (3, "offset", "int64")],
    )
    fb.table("struct", [])
    fb.table("int64", [(0, "<i", 64), (1, "<B", 1)])
    fb.string("name", "a" * name_bytes)
    fb.string("padding", "p" * 8 * fan_out**depth)  # referenced by nothing
    metadata = fb.finish()
    end_of_stream = b"\xff\xff\xff\xff" + bytes(4)
    return b"\xff\xff\xff\xff" + struct.pack("<i", len(metadata)) + metadata + end_of_stream
