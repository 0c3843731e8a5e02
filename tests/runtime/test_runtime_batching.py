"""Adaptive batching in the runtime: pyml.toml settings, PredictBatch's merging and splitting,
per-request errors, and the build-time proof (rows one by one == rows together)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pyml_runtime import codec
from pyml_runtime.config import BatchingConfig, load_config
from pyml_runtime.dataplane import Dataplane
from pyml_runtime.errors import ErrorKind, PymlError
from pyml_runtime.loader import load_model
from tests.runtime.runtime_homes import save_validation

# Row-independent; raises on x == 13 (a "poison" row); counts the model calls it gets.
ROWWISE = """
import pandas as pd
from pyml import DataFrameModel

class Rowwise(DataFrameModel):
    calls = []

    def __init__(self, home):
        pass

    def predict(self, df):
        Rowwise.calls.append(len(df))
        if (df["x"] == 13).any():
            raise ValueError("thirteen")
        return pd.DataFrame({"p1": df["x"] * 2.0 + df["y"]})
"""
# Looks across rows: each answer depends on the other rows of the call.
CENTERED = """
import pandas as pd
from pyml import DataFrameModel

class Centered(DataFrameModel):
    def __init__(self, home):
        pass

    def predict(self, df):
        return pd.DataFrame({"p1": df["x"] - df["x"].mean()})
"""
# Returns one row too few for more than one row: the group must fall back to one by one.
SHORT = """
import pandas as pd
from pyml import DataFrameModel

class Short(DataFrameModel):
    def __init__(self, home):
        pass

    def predict(self, df):
        out = pd.DataFrame({"p1": df["x"] * 1.0})
        return out if len(df) == 1 else out.iloc[:-1]
"""
TENSORS = """
import numpy as np
from pyml import TensorModel

class Twice(TensorModel):
    def __init__(self, home):
        pass

    def predict(self, tensors):
        return {"y": tensors["x"] * 2}
"""


def _rows(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame({"x": np.arange(n, dtype=np.float64), "y": np.linspace(0, 1, n)})


@pytest.fixture
def batching_home(make_home: Callable[..., Path]) -> Callable[..., Path]:
    def make(
        source: str, toml: str = "batching = true\n", data: object = None, name: str = "m"
    ) -> Path:
        home = make_home(name, **{"model.py": source, "pyml.toml": toml})
        save_validation(home, _rows() if data is None else data)  # type: ignore[arg-type]
        return home

    return make


def _payload(df: pd.DataFrame) -> tuple[str, bytes]:
    return ("dataframe", codec.encode_table(codec.dataframe_to_table(df)))


def _decode(answer: bytes | PymlError) -> pd.DataFrame:
    assert isinstance(answer, bytes), answer
    return codec.table_to_dataframe(codec.read_table(answer))


# --- pyml.toml -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("", BatchingConfig()),
        ("batching = true", BatchingConfig(enabled=True)),
        ("batching = false", BatchingConfig(enabled=False)),
        ("[batching]\nmax_rows = 64\nmax_delay_ms = 5", BatchingConfig(True, 64, 5)),
        ("[batching]\nenabled = false\nmax_rows = 8", BatchingConfig(False, 8, 2)),
    ],
)
def test_batching_settings_are_read_from_pyml_toml(
    tmp_path: Path, toml: str, expected: BatchingConfig
) -> None:
    (tmp_path / "pyml.toml").write_text(toml)
    assert load_config(tmp_path).batching == expected


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('batching = "yes"', "'batching' is 'yes'"),
        ("[batching]\nmax_rows = 0", "batching.max_rows is 0"),
        ("[batching]\nmax_delay_ms = -1", "batching.max_delay_ms is -1"),
        ("[batching]\nmax_delay_ms = 2.5", "batching.max_delay_ms is 2.5"),
        ("[batching]\nenabled = 1", "batching.enabled is 1"),
        ("[batching]\nmax_row = 8", "batching.max_row is not a setting"),
    ],
)
def test_invalid_batching_settings_name_the_file_and_key(
    tmp_path: Path, toml: str, named: str
) -> None:
    (tmp_path / "pyml.toml").write_text(toml)
    with pytest.raises(PymlError) as error:
        load_config(tmp_path)
    assert error.value.kind is ErrorKind.MODEL_LOAD_ERROR
    assert str(tmp_path / "pyml.toml") in error.value.message
    assert named in error.value.message


# --- PredictBatch ----------------------------------------------------------------------------


def test_a_batch_is_one_model_call_and_each_answer_equals_its_request_alone(
    batching_home: Callable[..., Path],
) -> None:
    dp = Dataplane.for_home(load_model(batching_home(ROWWISE)))
    requests = [
        _rows(6).iloc[i : i + n].reset_index(drop=True) for i, n in [(0, 1), (1, 3), (4, 2)]
    ]
    alone = [_decode(dp.predict_arrow(*_payload(r))) for r in requests]
    calls = dp.model.cls.calls  # type: ignore[union-attr]
    calls.clear()
    answers = dp.predict_batch([_payload(r) for r in requests])
    assert calls == [6]
    for answer, expected in zip(answers, alone, strict=True):
        pd.testing.assert_frame_equal(_decode(answer), expected)


def test_bad_requests_get_their_own_errors_and_the_others_their_answers(
    batching_home: Callable[..., Path],
) -> None:
    dp = Dataplane.for_home(load_model(batching_home(ROWWISE)))
    good = _rows(2)
    answers = dp.predict_batch(
        [
            _payload(good),
            _payload(good.rename(columns={"y": "why"})),
            ("dataframe", b"not arrow"),
            ("tensors", _payload(good)[1]),
            _payload(good),
        ]
    )
    pd.testing.assert_frame_equal(_decode(answers[0]), _decode(answers[4]))
    for answer in answers[1:4]:
        assert isinstance(answer, PymlError)
        assert answer.kind is ErrorKind.INVALID_INPUT
    assert isinstance(answers[1], PymlError)
    assert answers[1].message == "model 'm': missing column 'y' (expected columns: x, y)"


def test_a_model_error_in_a_batch_is_only_its_requests(
    batching_home: Callable[..., Path],
) -> None:
    dp = Dataplane.for_home(load_model(batching_home(ROWWISE)))
    poison = pd.DataFrame({"x": [13.0], "y": [0.0]})
    answers = dp.predict_batch([_payload(_rows(2)), _payload(poison), _payload(_rows(3))])
    assert isinstance(answers[1], PymlError)
    assert answers[1].kind is ErrorKind.MODEL_ERROR
    assert answers[1].message == "model 'm' raised ValueError: thirteen"
    assert answers[1].exception_type == "ValueError"
    assert len(_decode(answers[0])) == 2 and len(_decode(answers[2])) == 3


def test_a_wrong_row_count_in_a_batch_falls_back_to_one_by_one(
    batching_home: Callable[..., Path],
) -> None:
    home = batching_home(SHORT, toml="batching = false\n", data=pd.DataFrame({"x": [1.0]}))
    (home / "pyml.toml").write_text("batching = true\n")
    dp = Dataplane.for_home(load_model(home))
    answers = dp.predict_batch([_payload(pd.DataFrame({"x": [float(i)]})) for i in range(3)])
    assert [_decode(a)["p1"].tolist() for a in answers] == [[0.0], [1.0], [2.0]]


def test_groups_hold_at_most_max_rows_and_a_larger_request_goes_alone(
    batching_home: Callable[..., Path],
) -> None:
    home = batching_home(ROWWISE, toml="[batching]\nmax_rows = 4\n")
    dp = Dataplane.for_home(load_model(home))
    calls = dp.model.cls.calls  # type: ignore[union-attr]
    calls.clear()
    sizes = [1, 2, 1, 6, 3, 2]
    answers = dp.predict_batch([_payload(_rows(n)) for n in sizes])
    assert calls == [4, 6, 3, 2]
    assert [len(_decode(a)) for a in answers] == sizes


def test_batching_off_predicts_every_request_alone(
    batching_home: Callable[..., Path],
) -> None:
    dp = Dataplane.for_home(load_model(batching_home(ROWWISE, toml="")))
    calls = dp.model.cls.calls  # type: ignore[union-attr]
    calls.clear()
    dp.predict_batch([_payload(_rows(2)), _payload(_rows(3))])
    assert calls == [2, 3]


def test_tensor_requests_merge_along_the_first_dimension(
    batching_home: Callable[..., Path],
) -> None:
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    dp = Dataplane.for_home(load_model(batching_home(TENSORS, data={"x": x})))
    parts = [x[:1], x[1:4]]
    payloads = [("tensors", codec.encode_table(codec.tensors_to_table({"x": p}))) for p in parts]
    answers = dp.predict_batch(payloads)
    for part, answer in zip(parts, answers, strict=True):
        assert isinstance(answer, bytes)
        np.testing.assert_array_equal(
            codec.table_to_tensors(codec.read_table(answer))["y"], part * 2
        )


# --- the build-time proof --------------------------------------------------------------------


def test_a_row_independent_model_passes_the_batching_check(
    batching_home: Callable[..., Path],
) -> None:
    report = Dataplane.for_home(load_model(batching_home(ROWWISE))).run_validation()
    assert report.passed, report.diff
    assert report.batching is not None and report.batching.passed
    assert report.batching.rows == 6


def test_a_model_that_looks_across_rows_is_refused_with_batching(
    batching_home: Callable[..., Path],
) -> None:
    home = batching_home(CENTERED, toml="batching = false\n")
    assert Dataplane.for_home(load_model(home)).run_validation().passed
    (home / "pyml.toml").write_text("batching = true\n")
    report = Dataplane.for_home(load_model(home)).run_validation()
    assert not report.passed
    assert report.batching is not None and not report.batching.passed
    assert "model 'm' sets batching = true in pyml.toml" in report.diff
    assert "column 'p1': 6 of 6 values differ" in report.diff
    assert "row 0: actual -2.5, expected 0.0" in report.diff
    assert "Remove batching from pyml.toml" in report.diff


TENSOR_CENTERED = """
import numpy as np
from pyml import TensorModel

class Centered(TensorModel):
    def __init__(self, home):
        pass

    def predict(self, tensors):
        return {"y": tensors["x"] - tensors["x"].mean(axis=0)}
"""


def test_the_batching_check_covers_tensor_models(
    batching_home: Callable[..., Path],
) -> None:
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    passed = Dataplane.for_home(load_model(batching_home(TENSORS, data={"x": x}))).run_validation()
    assert passed.passed and passed.batching is not None and passed.batching.rows == 4

    home = batching_home(TENSOR_CENTERED, toml="batching = false\n", data={"x": x}, name="c")
    (home / "pyml.toml").write_text("batching = true\n")
    refused = Dataplane.for_home(load_model(home)).run_validation()
    assert not refused.passed
    assert "tensor 'y': 12 of 12 values differ" in refused.diff
