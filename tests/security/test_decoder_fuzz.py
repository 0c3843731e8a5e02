"""A fuzz target for the runtime's Arrow decoder (Hypothesis), bounded for CI.

Valid encodings of varied tables (plain, compressed, several batches, dictionaries, nested,
tensors) are mutated: bytes flipped, inserted, deleted, the stream cut, int64 fields
overwritten with adversarial sizes; random bytes too. Whatever comes in, `codec.read_table`
(and the conversion the dataplane does next) returns or raises the runtime's PymlError: never
another exception, never more memory than the budget allows.

Bounded: `max_examples` and a per-example deadline (PYML_FUZZ_EXAMPLES runs longer locally);
derandomized, so CI runs the same examples every time and a failure reproduces.
"""

from __future__ import annotations

import os
import struct
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyml_runtime import codec
from pyml_runtime.errors import PymlError
from pyml_runtime.ipc_budget import DecodeBudget
from tests.security.hostile_arrow import stream

EXAMPLES = int(os.environ.get("PYML_FUZZ_EXAMPLES", "300"))
# Small budgets: a mutation that slips past one shows up as memory, which is checked.
BUDGET = DecodeBudget(
    max_columns=64,
    max_depth=8,
    max_batches=64,
    max_rows=1 << 16,
    max_values=1 << 18,
    max_decoded_bytes=8 << 20,
    min_decoded_bytes=8 << 20,
)
# No example makes Arrow allocate more than this (8 MiB decoded, plus conversions).
MEMORY_SLACK = 256 << 20
# Sizes that overflow, wrap or are merely huge when a field or buffer length says them.
HOSTILE_INT64 = [-(1 << 63), -2, -1, 0, 1, 7, (1 << 31) - 1, 1 << 31, 1 << 32, 1 << 40, 1 << 62]
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=2000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@cache
def seeds() -> tuple[bytes, ...]:
    """Valid streams of varied shapes: what the mutations start from."""
    frame = pd.DataFrame(
        {
            "x": [0.5, 1.0, None, 3.25],
            "n": pd.array([1, None, 3, 4], dtype="Int64"),
            "s": ["a", None, "ccc", "d"],
            "c": pd.Categorical(["u", "v", "u", "w"]),
            "t": pd.to_datetime([1, 2, 3, 4], unit="s", utc=True),
        }
    )
    nested = pa.record_batch(
        {
            "l": pa.array([[1, 2], None, [], [3]], pa.list_(pa.int32())),
            "st": pa.array([{"a": 1, "b": "x"}, None, {"a": 2, "b": None}, {"a": 3, "b": "z"}]),
            "m": pa.array([[("k", 1)], [], None, [("j", 2)]], pa.map_(pa.string(), pa.int64())),
        }
    )
    numbers = pa.record_batch({"i": pa.array(np.arange(64, dtype=np.int64)), "b": [True] * 64})
    return (
        codec.encode_dataframe(frame),
        codec.encode_tensors({"a": np.arange(6, dtype=np.float32).reshape(2, 3), "z": np.array(1)}),
        stream(nested),
        stream(numbers, numbers, compression="zstd"),
        stream(numbers, compression="lz4"),
        stream(pa.record_batch({"v": pa.array(["p", "q"] * 8, pa.string_view())})),
        stream(pa.RecordBatch.from_pandas(frame, preserve_index=False), compression="zstd"),
    )


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds())))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        operation = draw(st.sampled_from(["flip", "int64", "insert", "delete", "truncate"]))
        if operation == "flip":
            data[at] ^= draw(st.integers(1, 255))
        elif operation == "int64":
            value = draw(st.sampled_from(HOSTILE_INT64))
            at -= at % 8  # where flatbuffers and buffer prefixes keep their int64s
            data[at : at + 8] = struct.pack("<q", value)[: len(data) - at]
        elif operation == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif operation == "delete":
            del data[at : at + draw(st.integers(1, 16))]
        else:
            del data[at:]
    return bytes(data)


random_streams = st.one_of(
    st.binary(max_size=256),
    # A continuation marker and a metadata length, then anything.
    st.builds(
        lambda length, rest: b"\xff\xff\xff\xff" + struct.pack("<i", length) + rest,
        st.sampled_from([-1, 0, 8, 1 << 20, (1 << 31) - 1]),
        st.binary(max_size=256),
    ),
)


def decode(data: bytes) -> None:
    """What the dataplane does with a request's bytes, up to the model's input."""
    try:
        table = codec.read_table(data, BUDGET)
        if table.num_columns and all(
            isinstance(field.type, pa.FixedShapeTensorType) for field in table.schema
        ):
            codec.table_to_tensors(table)
        else:
            codec.table_to_dataframe(table)
    except PymlError:
        pass


@FUZZ_SETTINGS
@given(data=st.one_of(mutated(), random_streams))
def test_any_bytes_decode_or_raise_pyml_error_within_budget(data: bytes) -> None:
    peak = pa.default_memory_pool().max_memory()
    decode(data)
    # The process's peak so far: it grows by more than the slack only if this example
    # allocated more than that (what the budget allows, and a margin).
    assert pa.default_memory_pool().max_memory() - peak <= MEMORY_SLACK


def test_every_seed_decodes() -> None:
    for data in seeds():
        decode(data)
        assert codec.read_table(data, BUDGET).num_rows > 0
