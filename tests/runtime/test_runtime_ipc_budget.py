"""The decoder budget's settings and what stays accepted (the attacks: tests/security)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from pyml_runtime import codec
from pyml_runtime.errors import ErrorKind, PymlError
from pyml_runtime.ipc_budget import DEFAULT_BUDGET, DecodeBudget
from tests.runtime.runtime_process import running


def test_settings_come_from_pyml_runtime_variables() -> None:
    budget = DecodeBudget.from_env(
        {"PYML_RUNTIME_MAX_BATCHES": "10", "PYML_RUNTIME_MAX_ROWS": "1_000"}
    )
    assert (budget.max_batches, budget.max_rows) == (10, 1000)
    assert budget.max_columns == DEFAULT_BUDGET.max_columns
    assert DecodeBudget.from_env({}) == DEFAULT_BUDGET
    with pytest.raises(ValueError, match="PYML_RUNTIME_MAX_DEPTH='-1'"):
        DecodeBudget.from_env({"PYML_RUNTIME_MAX_DEPTH": "-1"})
    with pytest.raises(ValueError, match="expected: a positive integer"):
        DecodeBudget.from_env({"PYML_RUNTIME_MAX_DEPTH": "deep"})


def test_decoded_bytes_scale_with_the_stream_between_a_floor_and_a_cap() -> None:
    budget = DecodeBudget(min_decoded_bytes=100, decoded_bytes_per_byte=4, max_decoded_bytes=1000)
    assert budget.decoded_bytes_limit(10) == 100
    assert budget.decoded_bytes_limit(200) == 800
    assert budget.decoded_bytes_limit(10_000) == 1000


def test_a_budget_is_applied_to_what_the_stream_declares() -> None:
    frame = pa.record_batch({"x": pa.array(np.zeros(1000))})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, frame.schema) as writer:
        for _ in range(3):
            writer.write_batch(frame, custom_metadata={"note": "kept"})
    data = sink.getvalue().to_pybytes()
    assert codec.read_table(data, DecodeBudget(max_batches=3, max_rows=3000)).num_rows == 3000
    for budget in (DecodeBudget(max_batches=2), DecodeBudget(max_rows=2999)):
        with pytest.raises(PymlError) as caught:
            codec.read_table(data, budget)
        assert caught.value.kind is ErrorKind.RESOURCE_EXHAUSTED


def test_an_invalid_setting_stops_the_runtime_with_its_name(
    scorer_home: Path, tmp_path: Path
) -> None:
    env = {"PYML_RUNTIME_MAX_CONCURRENT_PREDICTS": "8"}
    with running(scorer_home, tmp_path / "s.sock", env=env) as runtime:
        assert runtime.process.wait(timeout=30) == 1
        assert "PYML_RUNTIME_MAX_CONCURRENT_PREDICTS='8' (expected: 1 to 7" in runtime.stderr()


def test_a_dictionary_batch_is_held_to_the_same_decoded_bytes() -> None:
    values = pa.array(np.arange(1000, dtype=np.int64))
    column = pa.DictionaryArray.from_arrays(pa.array(np.arange(1000, dtype=np.int16)), values)
    batch = pa.record_batch({"c": column})
    sink = pa.BufferOutputStream()
    options = pa.ipc.IpcWriteOptions(compression="lz4")
    with pa.ipc.new_stream(sink, batch.schema, options=options) as writer:
        writer.write_batch(batch)
    data = sink.getvalue().to_pybytes()
    assert codec.read_table(data).num_rows == 1000
    prefix = struct.pack("<q", 8000)  # the dictionary's values buffer, uncompressed
    assert data.count(prefix) == 1
    with pytest.raises(PymlError) as caught:
        codec.read_table(data.replace(prefix, struct.pack("<q", 1 << 40)))
    assert caught.value.kind is ErrorKind.RESOURCE_EXHAUSTED
    assert "decoded bytes" in caught.value.message
