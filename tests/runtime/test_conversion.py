"""The one conversion rule (`pyml_runtime.conversion`): every cast that is always made gives
the model exactly the frame it was validated with, and everything else is refused by name."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pyml_runtime.conversion import InputColumns
from pyml_runtime.errors import ErrorKind, PymlError
from tests.conversion_cases import ALWAYS_MADE, every_cast_at_once, sent, validation_frame, wanted


def columns() -> InputColumns:
    return InputColumns("typed", pa.Table.from_pandas(validation_frame(), preserve_index=False))


def conformed(table: pa.Table) -> pd.DataFrame:
    frame: pd.DataFrame = columns().conform(table).to_pandas()
    return frame


def refusal(table: pa.Table) -> str:
    with pytest.raises(PymlError) as caught:
        columns().conform(table)
    assert caught.value.kind is ErrorKind.INVALID_INPUT
    return caught.value.message


@pytest.mark.parametrize("replaced", ALWAYS_MADE.values(), ids=ALWAYS_MADE.keys())
def test_every_cast_that_is_always_made_gives_the_validated_frame(
    replaced: dict[str, pa.Array],
) -> None:
    pd.testing.assert_frame_equal(conformed(sent(**replaced)), wanted(), check_exact=True)


def test_every_cast_at_once_gives_the_validated_frame() -> None:
    pd.testing.assert_frame_equal(conformed(every_cast_at_once()), wanted(), check_exact=True)


def test_the_validation_datas_own_types_pass_unchanged() -> None:
    table = pa.Table.from_pandas(wanted(), preserve_index=False)
    assert columns().conform(table) is table


def test_a_category_keeps_the_validation_categories_and_unknown_values_go_missing() -> None:
    frame = conformed(sent(city=pa.array(["Rome", "Nice", None])))
    assert list(frame["city"].cat.categories) == ["Lyon", "Nice", "Paris"]
    assert frame["city"].isna().tolist() == [True, False, True]


REFUSED = {
    "text for a float": (
        {"score": pa.array(["1", "2", "3"])},
        "column 'score': string (pandas: str) (expected: float64)",
    ),
    "a fraction for an int": (
        {"count": pa.array([4.5, 5.0, 6.0])},
        "column 'count': float64 (expected: int64): Float value 4.500000 was truncated "
        "converting to int64",
    ),
    "int64 past 2**53 for float64": (
        {"score": pa.array([2**53 + 1, 1, 2], pa.int64())},
        "column 'score': int64 (expected: float64): Integer value 9007199254740993 not in "
        "range: -9007199254740992 to 9007199254740992",
    ),
    "uint64 for int64 (not wider)": (
        {"count": pa.array([4, 5, 6], pa.uint64())},
        "column 'count': uint64 (expected: int64)",
    ),
    "missing values for a plain int": (
        {"count": pa.array([4, None, 6], pa.int64())},
        "column 'count': int64 (expected: int64): 1 missing value, which int64 cannot hold "
        "(the validation data had none here): fill them, or validate the model with a "
        "nullable Int64 column",
    ),
    "missing values for a plain bool": (
        {"ok": pa.array([True, None, None])},
        "column 'ok': bool (expected: bool): 2 missing values, which bool cannot hold (the "
        "validation data had none here): fill them, or validate the model with a nullable "
        "boolean column",
    ),
    "ints for a category": (
        {"city": pa.array([1, 2, 3])},
        "column 'city': int64 (expected: dictionary<values=large_string, indices=int8, "
        "ordered=0> (pandas: category))",
    ),
    "a finer timestamp that would lose precision": (
        {"seen": pa.array([1_000_000_001, 0, 0], pa.timestamp("ns", tz="UTC"))},
        "column 'seen': timestamp[ns, tz=UTC] (pandas: datetime64[ns, UTC]) (expected: "
        "timestamp[us, tz=UTC] (pandas: datetime64[us, UTC])): Casting from "
        "timestamp[ns, tz=UTC] to timestamp[us, tz=UTC] would lose data: 1000000001",
    ),
}


@pytest.mark.parametrize(
    ("replaced", "message"),
    REFUSED.values(),
    ids=REFUSED.keys(),
)
def test_everything_else_is_refused_naming_model_column_and_both_types(
    replaced: dict[str, pa.Array], message: str
) -> None:
    assert refusal(sent(**replaced)) == f"model 'typed': {message}"


def test_a_narrower_float_is_refused() -> None:
    frame = pd.DataFrame({"x": np.array([1.0], dtype="float32")})
    narrow = InputColumns("m", pa.Table.from_pandas(frame, preserve_index=False))
    with pytest.raises(PymlError) as caught:
        narrow.conform(pa.table({"x": pa.array([1.0])}))
    assert caught.value.message == "model 'm': column 'x': float64 (expected: float32)"


def test_the_senders_pandas_dtype_is_named_when_it_sent_one() -> None:
    frame = wanted().assign(score=["1", "2", "3"])
    message = refusal(pa.Table.from_pandas(frame, preserve_index=False))
    assert (
        message == "model 'typed': column 'score': large_string (pandas: str) (expected: float64)"
    )


def test_a_missing_column_says_which_sent_column_it_may_be() -> None:
    table = sent().rename_columns(["Count", "score", "city", "visits", "seen", "name", "ok"])
    assert refusal(table) == (
        "model 'typed': missing column 'count' (did you mean 'Count'?) "
        "(expected columns: count, score, city, visits, seen, name, ok)"
    )
    misspelt = sent().rename_columns(["count", "scroe", "city", "visits", "seen", "name", "ok"])
    assert "missing column 'score' (did you mean 'scroe'?)" in refusal(misspelt)
    assert "did you mean" not in refusal(sent().drop_columns(["score"]))


def test_extra_columns_are_ignored_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    plane = columns()
    table = sent().append_column("note", pa.array(["a", "b", "c"]))
    with caplog.at_level(logging.WARNING, logger="pyml_runtime.conversion"):
        for _ in range(3):
            assert plane.conform(table).column_names == wanted().columns.tolist()
    logged = [r.getMessage() for r in caplog.records]
    assert logged == ["model 'typed': ignoring column(s) it does not take: 'note' (logged once)"]


def test_a_spark_type_is_judged_by_the_same_rule() -> None:
    plane = columns()
    assert plane.type_refusal("count", pa.int32()) is None
    assert plane.type_refusal("city", pa.string()) is None
    assert plane.type_refusal("seen", pa.timestamp("us", tz="UTC")) is None
    assert plane.type_refusal("city", pa.int64()) == (
        "'city' is int64 (expected: dictionary<values=large_string, indices=int8, ordered=0> "
        "(pandas: category))"
    )


def test_extra_column_names_a_client_chooses_are_logged_for_at_most_64_sets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plane = columns()
    with caplog.at_level(logging.WARNING, logger="pyml_runtime.conversion"):
        for i in range(70):
            plane.conform(sent().append_column(f"x{i}" * 50, pa.array([1, 2, 3])))
    assert len(caplog.records) == 64
    assert all("…" in r.getMessage() for r in caplog.records), "long names are cut"
