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
