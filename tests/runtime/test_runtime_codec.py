"""The Arrow codec: round trips, and what it does with untrusted bytes."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pyml_runtime import codec
from pyml_runtime.errors import ErrorKind, PymlError


def all_dtypes_frame() -> pd.DataFrame:
    frame = {
        f"{kind}{bits}": np.array([1, 2, 127], dtype=f"{kind}{bits}")
        for kind in ("int", "uint")
        for bits in (8, 16, 32, 64)
    }
    return pd.DataFrame(
        {
            **frame,
            "f32": np.array([1.5, np.nan, -3.0], dtype=np.float32),
            "f64": [0.1, np.inf, np.nan],
            "flag": [True, False, True],
            "text": ["a", "é", "c"],
            "nullable_int": pd.array([1, None, 3], dtype="Int64"),
            "nullable_bool": pd.array([True, None, False], dtype="boolean"),
            "nullable_text": pd.array(["x", None, "z"], dtype="string"),
            "category": pd.Categorical(["lo", "hi", "lo"], categories=["lo", "hi"], ordered=True),
            "zoned": pd.date_range("2024-03-30 12:00", periods=3, freq="D", tz="Europe/Paris"),
            "naive": pd.to_datetime(
                ["2024-01-01 00:00:00", None, "2024-12-31 23:59:59.123456"], format="ISO8601"
            ),
        }
    )


def test_dataframe_round_trip_keeps_names_dtypes_and_nulls() -> None:
    df = all_dtypes_frame()
    back = codec.decode_dataframe(codec.encode_dataframe(df))
    pd.testing.assert_frame_equal(back, df)
    assert back["zoned"].dt.tz is not None
    assert back["category"].cat.ordered


def test_empty_frame_keeps_columns_and_dtypes() -> None:
    df = all_dtypes_frame().iloc[0:0]
    back = codec.decode_dataframe(codec.encode_dataframe(df))
    assert list(back.columns) == list(df.columns)
    assert back.dtypes.to_dict() == df.dtypes.to_dict()
    assert len(back) == 0


def test_index_is_dropped() -> None:
    df = pd.DataFrame({"a": [1, 2]}, index=["r1", "r2"])
    back = codec.decode_dataframe(codec.encode_dataframe(df))
    assert list(back.index) == [0, 1]
    assert list(back.columns) == ["a"]


@pytest.mark.parametrize(
    "tensor",
    [
        np.array(3.5, dtype=np.float32),
        np.array(7, dtype=np.int64),
        np.arange(24, dtype=np.int64).reshape(2, 3, 4),
        np.array([[True, False, True]]),
        np.linspace(0, 1, 10, dtype=np.float32),
        np.zeros((0, 3), dtype=np.float64),
        np.arange(12, dtype=np.uint16).reshape(3, 4).T,  # not C-contiguous
    ],
    ids=["0d-float32", "0d-int64", "3d-int64", "bool", "1d-float32", "empty", "transposed"],
)
def test_tensor_round_trip_keeps_dtype_shape_and_values(tensor: np.ndarray) -> None:
    back = codec.decode_tensors(codec.encode_tensors({"t": tensor}))
    assert back["t"].dtype == tensor.dtype
    assert back["t"].shape == tensor.shape
    np.testing.assert_array_equal(back["t"], tensor)
    assert back["t"].flags.writeable


def test_tensors_payload_is_one_row_of_fixed_shape_tensors() -> None:
    table = codec.read_table(codec.encode_tensors({"a": np.zeros((2, 3)), "b": np.array(1)}))
    assert table.num_rows == 1
    assert table.schema.field("a").type.extension_name == "arrow.fixed_shape_tensor"
    assert list(table.schema.field("a").type.shape) == [2, 3]
    assert list(table.schema.field("b").type.shape) == []


def test_object_tensor_is_refused() -> None:
    with pytest.raises(PymlError, match=r"tensor 's': dtype <U1 is not supported"):
        codec.encode_tensors({"s": np.array(["a", "b"])})
    with pytest.raises(PymlError, match=r"tensor 'o': dtype object"):
        codec.encode_tensors({"o": np.array([1, None], dtype=object)})


def _stream(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


@pytest.mark.parametrize(
    "data",
    [b"", b"not arrow at all", b"\xff\xff\xff\xff\x10\x00\x00\x00garbage"],
    ids=["empty", "text", "bad-flatbuffer"],
)
def test_malformed_bytes_are_invalid_input(data: bytes) -> None:
    with pytest.raises(PymlError) as caught:
        codec.read_table(data)
    assert caught.value.kind is ErrorKind.INVALID_INPUT


def test_truncated_stream_is_invalid_input() -> None:
    data = codec.encode_dataframe(pd.DataFrame({"a": np.arange(1000)}))
    for cut in (len(data) // 3, len(data) - 20):
        with pytest.raises(PymlError) as caught:
            codec.read_table(data[:cut])
        assert caught.value.kind is ErrorKind.INVALID_INPUT


def test_corrupted_offsets_fail_full_validation() -> None:
    data = bytearray(codec.encode_dataframe(pd.DataFrame({"s": ["aaaa", "bbbb", "cccc"]})))
    # The body ends with the string data, preceded by int64 offsets 0, 4, 8, 12: break one.
    offsets = np.array([0, 4, 8, 12], dtype="<i8").tobytes()
    start = bytes(data).rfind(offsets)
    assert start > 0
    data[start + 8 : start + 16] = np.array([1 << 40], dtype="<i8").tobytes()
    with pytest.raises(PymlError) as caught:
        codec.read_table(bytes(data))
    assert caught.value.kind is ErrorKind.INVALID_INPUT


def test_python_extension_type_that_would_unpickle_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (marker.touch, ())  # type: ignore[return-value]

    field = pa.field(
        "evil",
        pa.binary(),
        metadata={
            b"ARROW:extension:name": b"arrow.py_extension_type",
            b"ARROW:extension:metadata": pickle.dumps(Evil()),
        },
    )
    data = _stream(pa.Table.from_arrays([pa.array([b"x"])], schema=pa.schema([field])))
    with pytest.raises(PymlError, match=r"extension type 'arrow\.py_extension_type'") as caught:
        codec.read_table(data)
    assert caught.value.kind is ErrorKind.INVALID_INPUT
    assert not marker.exists()


def test_registered_python_extension_type_is_refused_before_deserializing() -> None:
    calls: list[bytes] = []

    class Registered(pa.ExtensionType):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(pa.int64(), "test.registered")

        def __arrow_ext_serialize__(self) -> bytes:
            return b""

        @classmethod
        def __arrow_ext_deserialize__(cls, storage_type: object, serialized: bytes) -> Registered:
            calls.append(serialized)
            return cls()

    pa.register_extension_type(Registered())
    try:
        column = pa.ExtensionArray.from_storage(Registered(), pa.array([1, 2]))
        data = _stream(pa.table({"nested": pa.StructArray.from_arrays([column], ["inner"])}))
        with pytest.raises(PymlError, match=r"extension type 'test\.registered'"):
            codec.read_table(data)
    finally:
        pa.unregister_extension_type("test.registered")
    assert calls == []


def test_unknown_nested_extension_is_refused() -> None:
    inner = pa.field("inner", pa.int64(), metadata={b"ARROW:extension:name": b"other.ext"})
    data = _stream(pa.table({"s": pa.array([{"inner": 1}], pa.struct([inner]))}))
    with pytest.raises(PymlError, match=r"column 's': extension type 'other.ext'"):
        codec.read_table(data)


def test_tensor_column_in_a_dataframe_payload_is_refused() -> None:
    with pytest.raises(PymlError, match="column 't' is a tensor"):
        codec.decode_dataframe(codec.encode_tensors({"t": np.zeros(3)}))


def test_tensors_payload_with_two_rows_is_refused() -> None:
    table = codec.read_table(codec.encode_tensors({"t": np.zeros(3)}))
    doubled = pa.concat_tables([table, table])
    with pytest.raises(PymlError, match="has 2 rows"):
        codec.decode_tensors(codec.encode_table(doubled))


def test_plain_column_in_a_tensors_payload_is_refused() -> None:
    with pytest.raises(
        PymlError, match=r"column 'a': int64 \(expected: arrow.fixed_shape_tensor\)"
    ):
        codec.decode_tensors(codec.encode_dataframe(pd.DataFrame({"a": [1]})))


def test_schema_bytes_round_trip() -> None:
    schema = codec.read_table(codec.encode_dataframe(all_dtypes_frame())).schema
    assert codec.schema_from_bytes(codec.schema_to_bytes(schema)).equals(
        schema, check_metadata=True
    )
    with pytest.raises(PymlError):
        codec.schema_from_bytes(b"nope")
