"""The Arrow codec: round trips, and what it does with untrusted bytes."""

from __future__ import annotations

import io
import pickle
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pyml_runtime import codec, fast_frames
from pyml_runtime.dataplane import Dataplane
from pyml_runtime.errors import ErrorKind, PymlError
from pyml_runtime.loader import load_model
from tests.runtime.runtime_homes import save_validation


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


@pytest.mark.parametrize("view", [False, True], ids=["bytes", "memoryview"])
def test_registered_python_extension_type_is_refused_before_deserializing(view: bool) -> None:
    # The servicer passes a view of the request's message (`bytes in memoryview` is False).
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
            codec.read_table(memoryview(b"head" + data)[4:] if view else data)
    finally:
        pa.unregister_extension_type("test.registered")
    assert calls == []


def test_a_column_whose_values_spell_an_extension_name_is_accepted() -> None:
    # Only the schema message can name a type; a value that holds the same bytes names none.
    # (The check once scanned the whole stream: a false refusal, and 14 ms per 24 MB request.)
    class Registered(pa.ExtensionType):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(pa.int64(), "test.spelled")

        def __arrow_ext_serialize__(self) -> bytes:
            return b""

        @classmethod
        def __arrow_ext_deserialize__(cls, storage_type: object, serialized: bytes) -> Registered:
            return cls()

    name = b"test.spelled"
    spelled = struct.pack("<I", len(name)) + name + b"\0"
    pa.register_extension_type(Registered())
    try:
        table = codec.read_table(_stream(pa.table({"note": pa.array([spelled], pa.binary())})))
    finally:
        pa.unregister_extension_type("test.spelled")
    assert table.column("note").to_pylist() == [spelled]


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


# --- fast paths: the same results as pyarrow's general conversion ----------------------------


def numeric_frames() -> dict[str, pd.DataFrame]:
    """Frames the fast paths take: numpy bool, int, uint, float32 and float64 columns."""
    rng = np.random.default_rng(7)
    blocks = pd.DataFrame(index=range(4))  # one pandas block a column, all of one dtype
    for name in ("b", "a", "c"):
        blocks[name] = rng.normal(size=4)
    named = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4]})
    named.columns.name = "features"
    return {
        "one-row": pd.DataFrame(rng.normal(size=(1, 30)), columns=[f"f{i}" for i in range(30)]),
        "many-rows": pd.DataFrame(rng.normal(size=(10_000, 6)), columns=list("zyxwvu")),
        "empty": pd.DataFrame(
            {
                "f": np.array([], dtype=np.float64),
                "i": np.array([], dtype=np.int32),
                "b": np.array([], dtype=bool),
            }
        ),
        "empty-one-dtype": pd.DataFrame(np.empty((0, 3)), columns=["a", "b", "c"]),
        "one-column": pd.DataFrame({"only": [1, 2]}),
        "nans": pd.DataFrame(
            {"a": [1.0, np.nan, -0.0], "all_nan": [np.nan] * 3, "inf": [np.inf, -np.inf, 1.0]}
        ),
        "float32": pd.DataFrame(
            {"f32": np.array([1.5, np.nan, 3.0], dtype=np.float32), "f64": [0.1, 0.2, 0.3]}
        ),
        "ints": pd.DataFrame(
            {
                f"{kind}{bits}": np.array([0, 1, 127], dtype=f"{kind}{bits}")
                for kind in ("int", "uint")
                for bits in (8, 16, 32, 64)
            }
        ),
        "int-extremes": pd.DataFrame(
            {
                "u64": np.array([2**64 - 1, 0], dtype=np.uint64),
                "i64": np.array([-(2**63), 2**63 - 1], dtype=np.int64),
            }
        ),
        "bools": pd.DataFrame({"p": [True, False, True] * 5, "q": [False] * 15}),
        "mixed-order": pd.DataFrame(
            {
                "z": [1.0, np.nan],
                "a": [1, 2],
                "flag": [True, False],
                "f32": np.array([1, 2], dtype=np.float32),
                "m": [3.0, 4.0],
            }
        ),
        "one-block-a-column": blocks,
        "c-ordered-2d": pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["c", "b", "a"]),
        "row-slice": pd.DataFrame(rng.normal(size=(50, 4)), columns=list("abcd")).iloc[10:20],
        "string-index": pd.DataFrame({"a": [1.0, 2.0]}, index=["r1", "r2"]),
        "named-columns": named,
    }


def random_numeric_frame(seed: int) -> pd.DataFrame:
    """Random columns, dtypes, row count, NaNs and pandas block layout."""
    rng = np.random.default_rng(seed)
    rows = int(rng.choice([0, 1, 2, 7, 64, 1000]))
    dtypes = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]
    dtypes += ["float32", "float64"]
    names = [f"c{j}" for j in rng.permutation(int(rng.integers(1, 12)))]
    if rng.random() < 0.3:  # one dtype, one 2-D block (C- or F-ordered)
        dtype = np.dtype(rng.choice(dtypes))
        values = _random_values(rng, (rows, len(names)), dtype)
        order = "F" if rng.random() < 0.5 else "C"
        return pd.DataFrame(np.array(values, order=order), columns=names)
    frame = {}
    for name in names:
        dtype = np.dtype(rng.choice(dtypes))
        column = _random_values(rng, (rows,), dtype)
        if dtype.kind == "f":
            column[rng.random(size=rows) < 0.2] = np.nan
        frame[name] = column
    return pd.DataFrame(frame)


def _random_values(
    rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype[np.generic]
) -> np.ndarray:
    values = rng.normal(size=shape) * 100
    return (np.abs(values) if dtype.kind == "u" else values).astype(dtype)


@pytest.mark.parametrize("seed", range(40))
def test_random_numeric_frames_match_the_general_path(seed: int) -> None:
    df = random_numeric_frame(seed)
    general = pa.Table.from_pandas(df, preserve_index=False)
    fast = fast_frames.numeric_frame_to_table(df)
    assert fast is not None
    assert_same_table(fast, general)
    table = codec.read_table(codec.encode_table(fast))
    frame = fast_frames.numeric_table_to_frame(table)
    assert frame is not None
    assert_same_frame(frame, table.to_pandas())
    assert_same_frame(frame, df)


def general_frames() -> dict[str, pd.DataFrame]:
    """Frames the fast paths leave to pyarrow's general conversion."""
    with_attrs = pd.DataFrame({"a": [1.0]})
    with_attrs.attrs["source"] = "test"
    return {
        "all-dtypes": all_dtypes_frame(),
        "text": pd.DataFrame({"a": [1.0, 2.0], "s": ["x", "y"]}),
        "nullable-int": pd.DataFrame({"a": pd.array([1, None], dtype="Int64")}),
        "category": pd.DataFrame({"c": pd.Categorical(["lo", "hi"])}),
        "zoned": pd.DataFrame({"t": pd.date_range("2024-01-01", periods=2, tz="UTC")}),
        "float16": pd.DataFrame({"h": np.array([1.5, 2.0], dtype=np.float16)}),
        "int-labels": pd.DataFrame({0: [1.0], 1: [2.0]}),
        "multiindex-labels": pd.DataFrame(
            [[1.0, 2.0]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")])
        ),
        "attrs": with_attrs,
        "no-columns": pd.DataFrame(index=range(3)),
    }


def assert_same_frame(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(actual, expected, check_exact=True)
    assert actual.dtypes.tolist() == expected.dtypes.tolist()
    assert actual.columns.dtype == expected.columns.dtype
    assert actual.columns.name == expected.columns.name
    assert type(actual.index) is type(expected.index)
    assert actual.attrs == expected.attrs


def assert_same_table(actual: pa.Table, expected: pa.Table) -> None:
    assert actual.schema.equals(expected.schema, check_metadata=True)
    assert actual.equals(expected, check_metadata=True)
    assert [c.null_count for c in actual.columns] == [c.null_count for c in expected.columns]


NUMERIC = numeric_frames()
GENERAL = general_frames()


@pytest.mark.parametrize("name", list(NUMERIC))
def test_numeric_frame_fast_path_gives_from_pandas_table(name: str) -> None:
    df = NUMERIC[name]
    general = pa.Table.from_pandas(df, preserve_index=False)
    fast = fast_frames.numeric_frame_to_table(df)
    assert fast is not None, "expected the fast path"
    assert_same_table(fast, general)
    assert_same_table(codec.dataframe_to_table(df), general)
    # The stream reads back as the same table (NaN sent as null, as from_pandas does).
    assert_same_table(codec.read_table(codec.encode_table(fast)), general)


@pytest.mark.parametrize("name", list(NUMERIC))
def test_numeric_table_fast_path_gives_to_pandas_frame(name: str) -> None:
    table = codec.read_table(codec.encode_dataframe(NUMERIC[name]))
    fast = fast_frames.numeric_table_to_frame(table)
    assert fast is not None, "expected the fast path"
    general = table.to_pandas()
    assert_same_frame(fast, general)
    assert_same_frame(codec.table_to_dataframe(table), general)


@pytest.mark.parametrize("name", list(NUMERIC))
def test_numeric_frame_round_trip(name: str) -> None:
    df = NUMERIC[name]
    back = codec.decode_dataframe(codec.encode_dataframe(df))
    assert_same_frame(back, df.reset_index(drop=True).rename_axis(columns=None))
    assert list(back.columns) == list(df.columns)  # column order kept


@pytest.mark.parametrize("name", list(GENERAL))
def test_other_frames_take_the_general_path_unchanged(name: str) -> None:
    df = GENERAL[name]
    assert fast_frames.numeric_frame_to_table(df) is None
    general = pa.Table.from_pandas(df, preserve_index=False)
    assert_same_table(codec.dataframe_to_table(df), general)
    # Decoding may still be fast: int and tuple labels are written as plain strings.
    table = codec.read_table(codec.encode_table(general))
    assert_same_frame(codec.table_to_dataframe(table), table.to_pandas())


class _FrameWithoutColumnAccessor(pd.DataFrame):
    """A pandas without the private column accessor the fast path prefers."""

    @property
    def _get_column_array(self) -> None:
        raise AttributeError("_get_column_array")


def test_numeric_frame_fast_path_without_the_private_column_accessor() -> None:
    df = _FrameWithoutColumnAccessor(NUMERIC["mixed-order"])
    assert getattr(df, "_get_column_array", None) is None
    fast = fast_frames.numeric_frame_to_table(df)
    assert fast is not None
    assert_same_table(fast, pa.Table.from_pandas(df, preserve_index=False))


@pytest.mark.parametrize(
    "df",
    [
        pd.DataFrame({"c": pd.Categorical([1, 2, 1])}),  # its to_numpy() is plain int64
        pd.DataFrame({"n": pd.array([1, None, 3], dtype="Int64")}),
        pd.DataFrame({"t": pd.date_range("2024-01-01", periods=3, tz="UTC")}),
        pd.DataFrame({"x": [1.0, 2.0, 3.0], "b": pd.array([True, None, False], dtype="boolean")}),
    ],
    ids=["int-category", "nullable-int", "zoned", "nullable-bool"],
)
def test_extension_columns_take_the_general_path_without_the_private_accessor(
    df: pd.DataFrame,
) -> None:
    df = _FrameWithoutColumnAccessor(df)
    assert fast_frames.numeric_frame_to_table(df) is None
    assert_same_table(codec.dataframe_to_table(df), pa.Table.from_pandas(df, preserve_index=False))


@pytest.mark.parametrize(
    ("columns", "shown"),
    [
        (["a", "b", "a"], "'a'"),
        ([1, 2, 1], "'1'"),
        ([np.nan, np.nan], "'nan'"),
        (["x", 1, "x"], "'x'"),
    ],
)
def test_frames_with_duplicate_labels_are_refused(columns: list[object], shown: str) -> None:
    df = pd.DataFrame([list(range(len(columns)))], columns=columns)
    with pytest.raises(PymlError) as info:
        codec.dataframe_to_table(df)
    assert info.value.message == f"duplicate column names: {shown}"


def test_decoded_frames_share_the_column_lookup_but_not_the_name() -> None:
    # The column index of each decoded frame is its own object (a model may rename it), over
    # the same labels: the lookup table pandas builds on first use is built once per schema.
    data = codec.encode_dataframe(pd.DataFrame({"a": [1.0], "b": [2.0]}))
    one, two = codec.decode_dataframe(data), codec.decode_dataframe(data)
    assert one.columns is not two.columns
    assert one[["b", "a"]].columns.tolist() == ["b", "a"]
    one.columns.name = "renamed"
    assert two.columns.name is None
    assert codec.decode_dataframe(data).columns.name is None


def test_column_dtypes_without_pandas_private_list() -> None:
    df = GENERAL["all-dtypes"]

    class PublicOnly:  # a pandas whose frames had no block manager list of dtypes
        dtypes = df.dtypes

    assert fast_frames.column_dtypes(df) == list(df.dtypes)
    assert fast_frames.column_dtypes(PublicOnly()) == list(df.dtypes)  # type: ignore[arg-type]


def test_wide_frames_take_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_frames, "MAX_FAST_COLUMNS", 2)
    df = pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0]})
    assert fast_frames.numeric_frame_to_table(df) is None
    table = codec.dataframe_to_table(df)
    assert_same_table(table, pa.Table.from_pandas(df, preserve_index=False))
    assert fast_frames.numeric_table_to_frame(table) is None
    assert_same_frame(codec.table_to_dataframe(table), df)


def test_decoded_blocks_are_writable_and_do_not_share_the_payload() -> None:
    df = NUMERIC["mixed-order"]
    data = codec.encode_dataframe(df)
    back = codec.decode_dataframe(data)
    for column in back.columns:
        values = back[column].to_numpy()
        assert not np.shares_memory(values, np.frombuffer(data, dtype=np.uint8))
    back.iloc[0, 0] = 42.0  # a model may write to its input
    assert back.iloc[0, 0] == 42.0
    for column in ("z", "m"):
        array = back[column].to_numpy()
        array.flags.writeable = True  # raises if the memory is read-only


def plain_tables() -> dict[str, pa.Table]:
    """Tables other clients send: no pandas metadata, several chunks, nulls in floats."""
    floats = pa.chunked_array([[1.0, None], [3.0]], pa.float64())
    with_metadata = pa.Table.from_pandas(
        pd.DataFrame({"x": [1.0, np.nan, 3.0], "y": np.array([1, 2, 3], dtype=np.uint16)}),
        preserve_index=False,
    )
    return {
        "no-metadata": pa.table(
            {
                "x": pa.array([1.0, 2.0, None]),
                "n": pa.array([1, 2, 3], pa.int32()),
                "b": pa.array([True, False, True]),
                "f": pa.array([1.5, None, 2.5], pa.float32()),
            }
        ),
        "chunks": pa.table({"x": floats, "y": pa.chunked_array([[1, 2], [3]], pa.uint16())}),
        "chunks-and-metadata": pa.concat_tables(
            [with_metadata.slice(0, 1), with_metadata.slice(1)]
        ),
        "no-rows": pa.table({"x": pa.array([], pa.float64()), "b": pa.array([], pa.bool_())}),
        "unicode-names": pa.table({"é": [1.0], "a b": [2.0], "": [3.0]}),
    }


PLAIN = plain_tables()


@pytest.mark.parametrize("name", list(PLAIN))
def test_plain_table_fast_path_gives_to_pandas_frame(name: str) -> None:
    table = PLAIN[name]
    fast = fast_frames.numeric_table_to_frame(table)
    assert fast is not None, "expected the fast path"
    assert_same_frame(fast, table.to_pandas())
    assert_same_frame(codec.decode_dataframe(codec.encode_table(table)), table.to_pandas())


def fallback_tables() -> dict[str, pa.Table]:
    """Numeric tables whose to_pandas result depends on more than their types."""
    ranged = pa.Table.from_pandas(pd.DataFrame({"a": [1.0, 2.0]}, index=pd.RangeIndex(5, 7)))
    indexed = pa.Table.from_pandas(pd.DataFrame({"a": [1.0, 2.0]}, index=[10, 20]))
    renamed = pa.Table.from_pandas(pd.DataFrame({"a": [1.0]}), preserve_index=False)
    renamed = renamed.replace_schema_metadata(
        {b"pandas": renamed.schema.metadata[b"pandas"].replace(b'"name": "a"', b'"name": "b"')}
    )
    with_attrs = pd.DataFrame({"a": [1.0]})
    with_attrs.attrs["source"] = "test"
    return {
        "int-nulls": pa.table({"n": pa.array([1, None], pa.int64())}),  # to_pandas: float64
        "bool-nulls": pa.table({"b": pa.array([True, None])}),  # to_pandas: object
        "range-index": ranged,
        "index-column": indexed,
        "renamed-in-metadata": renamed,
        "attrs": pa.Table.from_pandas(with_attrs, preserve_index=False),
        "field-metadata": pa.table(
            {"a": [1.0]}, schema=pa.schema([pa.field("a", pa.float64(), metadata={b"k": b"v"})])
        ),
        "float16": pa.table({"h": pa.array(np.array([1.0], dtype=np.float16))}),
        "broken-metadata": pa.table({"a": [1.0]}).replace_schema_metadata({b"pandas": b"{"}),
    }


FALLBACK = fallback_tables()


@pytest.mark.parametrize("name", list(FALLBACK))
def test_other_tables_take_the_general_path(name: str) -> None:
    table = FALLBACK[name]
    assert fast_frames.numeric_table_to_frame(table) is None
    try:
        expected = table.to_pandas()
    except Exception:
        with pytest.raises(PymlError) as caught:
            codec.table_to_dataframe(table)
        assert caught.value.kind is ErrorKind.INVALID_INPUT
        return
    assert_same_frame(codec.table_to_dataframe(table), expected)


def test_int_nulls_still_become_float_and_bool_nulls_objects() -> None:
    frame = codec.table_to_dataframe(FALLBACK["int-nulls"])
    assert frame["n"].dtype == np.float64
    assert frame["n"].isna().tolist() == [False, True]
    frame = codec.table_to_dataframe(FALLBACK["bool-nulls"])
    assert frame["b"].dtype == object


def test_cached_plans_follow_the_data() -> None:
    # Same columns and dtypes, then different values and row counts: each result is its own.
    first = pd.DataFrame({"a": [1.0, 2.0], "b": [True, False]})
    second = pd.DataFrame({"a": [np.nan], "b": [True]})
    for df in (first, second, first.iloc[0:0], first):
        assert_same_frame(codec.decode_dataframe(codec.encode_dataframe(df)), df)
    # A frame from one decode is not tied to the next: renaming its columns is local.
    one = codec.decode_dataframe(codec.encode_dataframe(first))
    one.columns.name = "changed"
    two = codec.decode_dataframe(codec.encode_dataframe(first))
    assert two.columns.name is None


def test_numeric_model_sees_its_validated_dtypes(make_home: Callable[..., Path]) -> None:
    home = make_home(
        "numeric",
        **{
            "pyml.toml": 'name = "numeric"\n',
            "model.py": """
                import pandas as pd
                from pyml import DataFrameModel

                class Numeric(DataFrameModel):
                    def __init__(self, home: str):
                        pass

                    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
                        seen = ",".join(f"{c}:{t}" for c, t in df.dtypes.items())
                        total = df.sum(axis=1).to_numpy()
                        return pd.DataFrame({"total": total, "big": total > 2, "seen": seen})
            """,
        },
    )
    validation = pd.DataFrame(
        {"f32": np.array([1.0, 2.0], dtype=np.float32), "n": [1, 2], "b": [True, False]}
    )
    save_validation(home, validation)
    dp = Dataplane.for_home(load_model(home))
    want = "f32:float32,n:int64,b:bool"
    # A pyml client: the validation schema exactly.
    out = codec.decode_dataframe(dp.predict_arrow(1, codec.encode_dataframe(validation)))
    assert out["seen"].tolist() == [want, want]
    assert out["total"].tolist() == [3.0, 4.0]
    assert out["big"].dtype == bool
    # Another client: no pandas metadata, columns reordered, an extra column.
    plain = pa.table(
        {
            "x": pa.array(["extra"]),
            "b": pa.array([True]),
            "n": pa.array([5], pa.int64()),
            "f32": pa.array([0.5], pa.float32()),
        }
    )
    out = codec.decode_dataframe(dp.predict_arrow(1, codec.encode_table(plain)))
    assert out["seen"].tolist() == [want]
    assert out["total"].tolist() == [6.5]


def test_large_table_stream_is_what_the_plain_writer_writes() -> None:
    df = pd.DataFrame(np.random.default_rng(1).normal(size=(5_000, 10)), columns=list("abcdefghij"))
    table = codec.dataframe_to_table(df)
    assert table.num_rows * table.num_columns >= codec._PRESIZE_FROM_CELLS  # the presized writer
    assert codec.encode_table(table) == _stream(table)
    small = codec.dataframe_to_table(df.head(3))
    assert codec.encode_table(small) == _stream(small)
