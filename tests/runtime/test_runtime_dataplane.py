"""The dataplane: the one predict path, its input checks and its errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pyml_runtime import codec
from pyml_runtime.dataplane import Dataplane
from pyml_runtime.errors import ErrorKind, PymlError
from pyml_runtime.loader import load_model
from tests.runtime.runtime_homes import doubler_input, scorer_input


def dataplane(home: Path) -> Dataplane:
    return Dataplane.for_home(load_model(home))


def predict_error(dp: Dataplane, kind: str | int, data: bytes) -> PymlError:
    with pytest.raises(PymlError) as caught:
        dp.predict_arrow(kind, data)  # type: ignore[arg-type]
    return caught.value


def test_dataframe_predict(scorer_home: Path) -> None:
    dp = dataplane(scorer_home)
    out = codec.decode_dataframe(
        dp.predict_arrow("dataframe", codec.encode_dataframe(scorer_input()))
    )
    assert list(out.columns) == ["score", "label", "twice"]
    np.testing.assert_allclose(out["score"], [2.25, 1.5, 5.0, 8.625])
    assert out["twice"].dtype == "Int64"
    assert out["twice"].isna().tolist() == [False, True, False, False]


def test_extra_columns_dropped_and_order_restored(scorer_home: Path) -> None:
    df = scorer_input().assign(unused=1)[["unused", "count", "name", "y", "x"]]
    dp = dataplane(scorer_home)
    out = codec.decode_dataframe(dp.predict_arrow(1, codec.encode_dataframe(df)))
    assert out["label"].tolist()[0] == "A"


def test_client_without_pandas_metadata_gets_validated_dtypes(scorer_home: Path) -> None:
    # What a Java or Thrift client sends: plain Arrow, string not large_string, no pandas blob.
    table = pa.table(
        {
            "x": pa.array([1.0]),
            "y": pa.array([2.0]),
            "name": pa.array(["z"], pa.string()),
            "count": pa.array([None], pa.int64()),
        }
    )
    out = codec.decode_dataframe(dataplane(scorer_home).predict_arrow(1, codec.encode_table(table)))
    assert out["twice"].dtype == "Int64"  # the model saw a nullable Int64 column, as validated
    assert out["label"].tolist() == ["Z"]


def test_missing_column_names_model_column_and_expected(scorer_home: Path) -> None:
    data = codec.encode_dataframe(scorer_input().drop(columns=["y"]))
    error = predict_error(dataplane(scorer_home), "dataframe", data)
    assert error.kind is ErrorKind.INVALID_INPUT
    assert (
        error.message == "model 'scorer': missing column 'y' (expected columns: x, y, name, count)"
    )


def test_mistyped_column_names_model_column_and_expected_type(scorer_home: Path) -> None:
    data = codec.encode_dataframe(scorer_input().assign(x=["1", "2", "3", "4"]))
    error = predict_error(dataplane(scorer_home), "dataframe", data)
    assert error.kind is ErrorKind.INVALID_INPUT
    assert error.message == (
        "model 'scorer': column 'x': large_string (pandas: str) (expected: float64)"
    )


def test_wrong_payload_kind(scorer_home: Path, doubler_home: Path) -> None:
    data = codec.encode_dataframe(scorer_input())
    error = predict_error(dataplane(scorer_home), "tensors", data)
    assert error.kind is ErrorKind.INVALID_INPUT
    assert "model 'scorer' takes a dataframe payload (got: tensors)" in error.message
    assert "unspecified" in predict_error(dataplane(scorer_home), 0, data).message
    tensors = codec.encode_tensors(doubler_input())
    assert predict_error(dataplane(doubler_home), 1, tensors).kind is ErrorKind.INVALID_INPUT


def test_model_raising_is_a_model_error(scorer_home: Path) -> None:
    data = codec.encode_dataframe(scorer_input().assign(x=[-1.0, 0.0, 0.0, 0.0]))
    error = predict_error(dataplane(scorer_home), "dataframe", data)
    assert error.kind is ErrorKind.MODEL_ERROR
    assert error.message == "model 'scorer' raised ValueError: x must be non-negative"
    assert error.exception_type == "ValueError"


def test_malformed_bytes_are_invalid_input(scorer_home: Path) -> None:
    error = predict_error(dataplane(scorer_home), "dataframe", b"\x00garbage")
    assert error.kind is ErrorKind.INVALID_INPUT


@pytest.mark.parametrize(
    ("returns", "expected"),
    [
        ("[1, 2]", "model 'bad' returned list (expected: a pandas DataFrame)"),
        ("df.head(1)", "model 'bad' returned 1 rows for 2 input rows"),
        ("pd.DataFrame({'o': [object(), object()]})", "model 'bad' returned cannot convert"),
    ],
)
def test_bad_model_output_is_a_model_error(
    make_home: Callable[..., Path], returns: str, expected: str
) -> None:
    source = f"""
        import pandas as pd
        from pyml import DataFrameModel

        class Bad(DataFrameModel):
            def __init__(self, home):
                pass

            def predict(self, df):
                return {returns}
    """
    dp = Dataplane(load_model(make_home("bad", **{"model.py": source})))
    error = predict_error(dp, "dataframe", codec.encode_dataframe(pd.DataFrame({"a": [1, 2]})))
    assert error.kind is ErrorKind.MODEL_ERROR
    assert error.message.startswith(expected)


def test_tensor_predict_with_another_batch_size(doubler_home: Path) -> None:
    inputs = {"x": np.ones((2, 3), np.float32), "ids": np.array([1, 2]), "extra": np.zeros(1)}
    out = codec.decode_tensors(
        dataplane(doubler_home).predict_arrow(2, codec.encode_tensors(inputs))
    )
    np.testing.assert_array_equal(out["doubled"], np.full((2, 3), 2, np.float32))
    assert out["total"].shape == () and out["total"] == 6.0
    assert out["positive"].dtype == np.bool_
    np.testing.assert_array_equal(out["next_ids"], [2, 3])


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"ids": np.array([1])},
            "model 'doubler': missing tensor 'x' (expected tensors: x, ids)",
        ),
        (
            {"x": np.ones((2, 3), np.float64), "ids": np.array([1, 2])},
            "model 'doubler': tensor 'x': dtype float64 (expected: float32)",
        ),
        (
            {"x": np.ones((2, 4), np.float32), "ids": np.array([1, 2])},
            "model 'doubler': tensor 'x': shape (2, 4) (expected: (*, 3))",
        ),
        (
            {"x": np.ones(3, np.float32), "ids": np.array([1, 2])},
            "model 'doubler': tensor 'x': shape (3,) (expected: (*, 3))",
        ),
    ],
)
def test_tensor_input_checks(
    doubler_home: Path, inputs: dict[str, np.ndarray], message: str
) -> None:
    error = predict_error(dataplane(doubler_home), "tensors", codec.encode_tensors(inputs))
    assert error.kind is ErrorKind.INVALID_INPUT
    assert error.message == message


def test_metadata(scorer_home: Path) -> None:
    meta = dataplane(scorer_home).metadata()
    assert (meta.name, meta.version, meta.kind) == ("scorer", "7", "dataframe")
    assert meta.model_class == "model.Scorer"
    assert codec.schema_from_bytes(meta.input_schema).names == ["x", "y", "name", "count"]
    assert "score: double" in meta.output_schema_text
    assert set(meta.library_versions) >= {"pyarrow", "pandas", "numpy"}


def test_validation_round_trip_through_the_serving_path(
    scorer_home: Path, doubler_home: Path
) -> None:
    for home in (scorer_home, doubler_home):
        dp = dataplane(home)
        report = dp.check_validation_output(dp.predict_arrow(dp.kind, dp.validation_input()))
        assert report.passed, report.diff
        assert report.rows == 4
        assert dp.run_validation().passed


def test_without_validation_data(make_home: Callable[..., Path]) -> None:
    source = """
        from pyml import DataFrameModel

        class Echo(DataFrameModel):
            def __init__(self, home):
                pass

            def predict(self, df):
                return df
    """
    dp = dataplane(make_home("echo", **{"model.py": source}))
    out = codec.decode_dataframe(
        dp.predict_arrow(1, codec.encode_dataframe(pd.DataFrame({"a": [1]})))
    )
    assert out["a"].tolist() == [1]
    with pytest.raises(PymlError) as caught:
        dp.validation_input()
    assert caught.value.kind is ErrorKind.NO_VALIDATION_DATA


def test_predict_table_is_the_same_path_without_bytes(scorer_home: Path) -> None:
    dp = dataplane(scorer_home)
    table = codec.dataframe_to_table(scorer_input())
    out = dp.predict_table("dataframe", table)
    assert out.equals(codec.read_table(dp.predict_arrow("dataframe", codec.encode_table(table))))
