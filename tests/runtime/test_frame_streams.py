"""Known-shape streams (`frame_streams`): the same bytes and frames as the general road."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pyml_runtime import codec, fast_frames, frame_streams
from pyml_runtime.errors import ErrorKind, PymlError
from pyml_runtime.ipc_budget import DecodeBudget

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Each test learns its own shapes (the caches are process-wide).
    monkeypatch.setattr(frame_streams, "_TEMPLATES", fast_frames.BoundedCache(64))
    monkeypatch.setattr(codec, "_DEFAULT_BUDGET_LAYOUTS", frame_streams.FrameLayouts(64))
    yield


def known_frame(data: bytes) -> pd.DataFrame | None:
    return codec._DEFAULT_BUDGET_LAYOUTS.frame(data)


def general_bytes(df: pd.DataFrame) -> bytes:
    return codec.encode_table(codec.dataframe_to_table(df))


def general_frame(data: bytes) -> pd.DataFrame:
    return codec.table_to_dataframe(codec.read_table(data))


def count_general_encodes(
    monkeypatch: pytest.MonkeyPatch, frames: list[pd.DataFrame]
) -> list[pd.DataFrame]:
    """The frames among `frames` that the general road encodes from now on. Only these: in the
    whole suite a session fixture's thread keeps predicting (and encoding) in this process."""
    calls: list[pd.DataFrame] = []
    general = codec._encode_dataframe

    def counted(df: pd.DataFrame) -> bytes:
        if any(df is frame for frame in frames):
            calls.append(df)
        return general(df)

    monkeypatch.setattr(codec, "_encode_dataframe", counted)
    return calls


def numbers(rows: int, dtype: str, columns: int = 3) -> pd.DataFrame:
    values = RNG.normal(size=(rows, columns)) * 1000
    return pd.DataFrame(values.astype(dtype), columns=[f"c{j}" for j in range(columns)])


@pytest.mark.parametrize("dtype", ["float64", "int64", "uint64"])
@pytest.mark.parametrize(("rows", "columns"), [(1, 30), (1, 1), (3, 3), (100, 3)])
def test_a_known_shape_is_encoded_to_the_general_roads_bytes(
    dtype: str, rows: int, columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = numbers(rows, dtype, columns)
    assert codec.encode_dataframe(first) == general_bytes(first)
    later = [numbers(rows, dtype, columns) for _ in range(3)]  # new values, same shape
    calls = count_general_encodes(monkeypatch, later)
    for frame in later:
        assert codec.encode_dataframe(frame) == general_bytes(frame)
    assert calls == []  # the template wrote them


@pytest.mark.parametrize("rows", [1, 7, 9, 100])
def test_a_known_shape_of_several_dtypes_is_encoded_to_the_general_roads_bytes(
    rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a model answers: numbers of several widths and bools (packed, padded to 8 bytes).
    first = answers(rows)
    assert codec.encode_dataframe(first) == general_bytes(first)
    later = [answers(rows) for _ in range(3)]
    calls = count_general_encodes(monkeypatch, later)
    for frame in later:
        assert codec.encode_dataframe(frame) == general_bytes(frame)
    assert calls == []


def test_a_stream_that_only_ends_with_the_values_is_no_template() -> None:
    # pyarrow writes 1 row of 3 columns sliced from one buffer as 5 values: with all values
    # equal, the stream ends with the 3 values and the marker, yet 2 more values precede them.
    # A template cut there would put the next frame's first value in the wrong place.
    same = pd.DataFrame(np.ones((1, 3)), columns=["a", "b", "c"])
    assert codec.encode_dataframe(same) == general_bytes(same)
    other = pd.DataFrame([[5.0, 2.0, 3.0]], columns=["a", "b", "c"])
    data = codec.encode_dataframe(other)
    assert data == general_bytes(other)
    pd.testing.assert_frame_equal(general_frame(data), other)


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(pd.DataFrame({"a": [1.0, np.nan]}), id="NaN (null in Arrow)"),
        pytest.param(pd.DataFrame({"a": [1.0], "b": ["x"]}), id="text"),
        pytest.param(pd.DataFrame({"a": pd.array([1, 2], dtype="Int64")}), id="nullable"),
        pytest.param(
            pd.DataFrame({"a": np.zeros(frame_streams.MAX_TEMPLATE_BODY_BYTES)}), id="large"
        ),
        pytest.param(pd.DataFrame({"a": np.zeros(0)}), id="no rows"),
        pytest.param(pd.DataFrame({1: [1.0]}), id="a label not a str"),
    ],
)
def test_other_frames_take_the_general_road(frame: pd.DataFrame) -> None:
    for _ in range(2):
        assert frame_streams.frame_stream(frame, general_bytes) in (None, general_bytes(frame))
    assert frame_streams.frame_stream(frame, general_bytes) is None
    assert codec.encode_dataframe(frame) == general_bytes(frame)


def test_bool_columns_are_written_without_the_next_columns_bits() -> None:
    # A shape learned from a frame whose spare bits happen to be zero: the general road wrote
    # each bool column of one block as a slice of one bitmap, so a column of 1 row carried
    # the next column's bit (0x03 for True, True) where the template writes 0x01. Seen as a
    # flaky test_both_roads_agree_on_any_plain_frame.
    codec.encode_dataframe(pd.DataFrame({"c0": [True], "c1": [False]}))
    both = pd.DataFrame({"c0": [True], "c1": [True]})
    assert codec.encode_dataframe(both) == general_bytes(both)


def test_a_shape_whose_stream_is_laid_out_otherwise_keeps_the_general_road() -> None:
    frame = numbers(2, "float64")
    odd = general_bytes(frame) + b"\0" * 8  # not "template + values + end marker"
    assert frame_streams.frame_stream(frame, lambda _: odd) == odd
    assert frame_streams.frame_stream(frame, general_bytes) is None


def answers(rows: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "proba": RNG.random(rows),
            "flag": RNG.random(rows) > 0.5,
            "small": RNG.integers(0, 255, rows).astype("uint8"),
            "f32": RNG.random(rows).astype("float32"),
            "count": RNG.integers(-9, 9, rows).astype("int32"),
            "other_flag": RNG.random(rows) > 0.5,
        }
    )


# 20,000 rows: 380 KB of values; every size is known (only encoding stops at a size).
@pytest.mark.parametrize("rows", [1, 7, 8, 9, 64, 1000, 20_000])
def test_a_known_stream_decodes_to_the_general_roads_frame(rows: int) -> None:
    codec.decode_dataframe(codec.encode_dataframe(answers(rows)))  # learns the layout
    for _ in range(3):
        sent = answers(rows)
        data = codec.encode_dataframe(sent)
        known = known_frame(data)
        assert known is not None
        expected = general_frame(data)
        pd.testing.assert_frame_equal(known, expected, check_exact=True)
        pd.testing.assert_frame_equal(known, sent, check_exact=True)
        assert known.columns.tolist() == expected.columns.tolist()
        assert all(block.values.flags.writeable for block in known._mgr.blocks)
        pd.testing.assert_frame_equal(codec.decode_dataframe(data), expected, check_exact=True)


def test_a_frame_renamed_by_its_caller_leaves_the_next_ones_alone() -> None:
    data = codec.encode_dataframe(answers(2))
    first = codec.decode_dataframe(data)  # the general road, whose layout is kept
    first.columns.name = "renamed"
    first.iloc[0, 0] = -1.0
    second = codec.decode_dataframe(data)
    assert second.columns.name is None
    assert second.iloc[0, 0] != -1.0


def test_a_stream_with_the_same_head_but_other_bytes_after_it_is_checked_in_full() -> None:
    data = codec.encode_dataframe(answers(3))
    codec.decode_dataframe(data)
    assert known_frame(data) is not None
    for changed in (data[:-1], data + b"\0" * 8, data[:-8] + b"\0" * 8):
        assert known_frame(changed) is None
        assert outcome(codec.decode_dataframe, changed) == outcome(general_frame, changed)
    with pytest.raises(PymlError) as info:
        codec.decode_dataframe(data[:-1])
    assert info.value.kind is ErrorKind.INVALID_INPUT


def outcome(decode: Callable[[bytes], pd.DataFrame], data: bytes) -> object:
    try:
        return decode(data).to_dict("list")
    except PymlError as exc:
        return exc.kind, exc.message


def test_streams_with_nulls_or_text_are_not_learned() -> None:
    for frame in (
        pd.DataFrame({"a": [1.0, np.nan]}),
        pd.DataFrame({"a": ["x", "y"]}),
        pd.DataFrame({"a": pd.array([1, None], dtype="Int64")}),
    ):
        data = codec.encode_dataframe(frame)
        codec.decode_dataframe(data)
        assert known_frame(data) is None


def test_a_stricter_budget_still_checks_a_known_stream() -> None:
    data = codec.encode_dataframe(answers(5))
    codec.decode_dataframe(data)
    assert known_frame(data) is not None
    with pytest.raises(PymlError) as info:
        codec.decode_dataframe(data, DecodeBudget(max_rows=4))
    assert info.value.kind is ErrorKind.RESOURCE_EXHAUSTED


DTYPES = ["float64", "float32", "int64", "int32", "int8", "uint16", "uint64", "bool"]


@st.composite
def plain_frames(draw: st.DrawFn) -> pd.DataFrame:
    """Frames of plain numbers and bools, sometimes with NaN, of a few rows."""
    rows = draw(st.integers(1, 20))
    dtypes = draw(st.lists(st.sampled_from(DTYPES), min_size=1, max_size=5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    columns = {}
    for j, dtype in enumerate(dtypes):
        if dtype == "bool":
            values = rng.random(rows) > 0.5
        elif dtype.startswith("float"):
            values = (rng.normal(size=rows) * 1e3).astype(dtype)
            if draw(st.booleans()) and draw(st.booleans()):
                values[rng.integers(0, rows)] = np.nan
        else:
            info = np.iinfo(dtype)
            values = rng.integers(info.min, info.max, rows, dtype=dtype, endpoint=True)
        columns[f"c{j}"] = values
    return pd.DataFrame(columns)


@settings(max_examples=150, deadline=None)
@given(first=plain_frames(), seed=st.integers(0, 2**32 - 1))
def test_both_roads_agree_on_any_plain_frame(first: pd.DataFrame, seed: int) -> None:
    # A second frame of the first's shape (new values): both roads give the same bytes, and the
    # same frame back.
    rng = np.random.default_rng(seed)
    later = first.sample(frac=1, replace=True, random_state=rng.integers(2**31)).reset_index(
        drop=True
    )
    for frame in (first, later):
        data = codec.encode_dataframe(frame)
        assert data == general_bytes(frame)
        decoded = codec.decode_dataframe(data)
        pd.testing.assert_frame_equal(decoded, general_frame(data), check_exact=True)


def spans(counts: list[int]) -> list[slice]:
    starts = itertools.accumulate(counts, initial=0)
    return [slice(a, b) for a, b in itertools.pairwise(starts)]


@settings(max_examples=100, deadline=None)
@given(first=plain_frames(), counts=st.lists(st.integers(1, 6), min_size=1, max_size=4))
def test_streams_of_one_schema_stack_to_the_general_roads_frame_of_their_tables(
    first: pd.DataFrame, counts: list[int]
) -> None:
    # A batch's requests: the same columns, any row counts; their layouts learned first.
    frames = [first.sample(n, replace=True, random_state=n).reset_index(drop=True) for n in counts]
    streams = [codec.encode_dataframe(frame) for frame in frames]
    for data in streams:
        codec.decode_dataframe(data)
    known = [codec._DEFAULT_BUDGET_LAYOUTS.known(data) for data in streams]
    if any(one is None for one in known):  # NaN: the general road, as the tests above show
        return
    stacked = frame_streams.stacked(known)  # type: ignore[arg-type]
    tables = pa.concat_tables([codec.read_table(data) for data in streams])
    pd.testing.assert_frame_equal(stacked, codec.table_to_dataframe(tables), check_exact=True)
    assert all(block.values.flags.writeable for block in stacked._mgr.blocks)


def test_streams_of_other_schemas_do_not_stack() -> None:
    one, other = answers(2), answers(2).rename(columns={"proba": "p"})
    known = []
    for frame in (one, other):
        data = codec.encode_dataframe(frame)
        codec.decode_dataframe(data)
        known.append(codec._DEFAULT_BUDGET_LAYOUTS.known(data))
    assert None not in known
    with pytest.raises(ValueError, match="different schemas"):
        frame_streams.stacked(known)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(first=plain_frames(), counts=st.lists(st.integers(1, 6), min_size=1, max_size=4))
def test_each_row_slices_stream_is_the_general_roads_stream_of_that_slice(
    first: pd.DataFrame, counts: list[int]
) -> None:
    # A batch's answer split back per request: twice, so that the templates are used.
    frame = first.sample(sum(counts), replace=True, random_state=len(counts)).reset_index(drop=True)
    for _ in range(2):
        streams = frame_streams.row_streams(frame, counts, general_bytes)
        if streams is None:  # NaN: the general road
            assert frame.isna().any().any()
            return
        for stream, span in zip(streams, spans(counts), strict=True):
            if stream is not None:
                assert stream == general_bytes(frame.iloc[span].reset_index(drop=True))
