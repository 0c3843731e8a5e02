"""The dataplane's known-shape road (`frame_streams`): the model sees, and the caller gets, what
the general road gives; a stream sent otherwise than as validated never takes it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from pyml_runtime import codec
from pyml_runtime.dataplane import Dataplane
from pyml_runtime.errors import ErrorKind, PymlError
from pyml_runtime.loader import load_model
from tests.runtime.runtime_homes import save_validation

# A model that also tampers with its input frame, as model code may: the next request must not
# see it (each request's frame and column index are its own).
MODEL = """
import pandas as pd
from pyml import DataFrameModel


class Proba(DataFrameModel):
    def __init__(self, home: str) -> None:
        pass

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        total = df["a"] * 0.5 + df["b"] - df["c"]
        answer = pd.DataFrame({"p": total, "flag": total > 0, "n": df["c"].astype("int32")})
        df.columns.name = "tampered"
        df.iloc[:, 0] = -1.0
        return answer
"""

RNG = np.random.default_rng(3)


def rows(count: int) -> pd.DataFrame:
    return pd.DataFrame(RNG.normal(size=(count, 3)) * 10, columns=["a", "b", "c"])


def proba_dataplane(home: Path, toml: str = "") -> Dataplane:
    home.mkdir()
    (home / "model.py").write_text(textwrap.dedent(MODEL))
    (home / "pyml.toml").write_text(f'name = "proba"\n{toml}')
    save_validation(home, rows(5))
    return Dataplane.for_home(load_model(home))


@pytest.fixture
def dp(tmp_path: Path) -> Dataplane:
    return proba_dataplane(tmp_path / "proba")


def general(dp: Dataplane, data: bytes) -> bytes:
    """The general road: the table read, conformed, predicted and written."""
    return codec.encode_table(dp.predict_table(1, codec.read_table(data)))


def test_a_request_sent_as_validated_is_predicted_from_its_values_after_the_first(
    dp: Dataplane, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = [codec.encode_dataframe(rows(n)) for n in (1, 1, 4, 4, 1)]
    expected = [general(dp, data) for data in sent]
    dp.predict_arrow(1, sent[0])  # learns the 1-row layout (the 4-row one below)
    dp.predict_arrow(1, sent[2])
    monkeypatch.setattr(dp, "_read", lambda data: pytest.fail("read the general way"))
    assert [dp.predict_arrow(1, data) for data in sent] == expected


def test_a_large_request_sent_as_validated_is_predicted_from_its_values_too(
    dp: Dataplane, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 240 KB of values, as 1,000 rows of the 30-feature example: the general road cost 231 us
    # of the runtime's CPU there against 29 us from the values (the model took 1.5 ms).
    sent = [codec.encode_dataframe(rows(10_000)) for _ in range(3)]
    expected = [general(dp, data) for data in sent]
    dp.predict_arrow(1, sent[0])
    monkeypatch.setattr(dp, "_read", lambda data: pytest.fail("read the general way"))
    assert [dp.predict_arrow(1, data) for data in sent] == expected


def test_a_request_sent_otherwise_than_validated_takes_the_general_road_each_time(
    dp: Dataplane, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = []
    read = dp._read

    def counted(data: bytes | memoryview) -> pa.Table:
        reads.append(data)
        return read(data)

    monkeypatch.setattr(dp, "_read", counted)
    for frame in (
        rows(2).astype("float32"),  # converted to float64
        rows(2)[["c", "b", "a"]],  # put in the validated order
        rows(2).assign(extra=1.0),  # an extra column dropped
        rows(2).assign(a=[np.nan, 1.0]),  # a null
    ):
        data = codec.encode_dataframe(frame)
        first, second = dp.predict_arrow(1, data), dp.predict_arrow(1, data)
        assert first == second == general(dp, data)
    assert len(reads) == 8


def test_a_known_stream_changed_or_cut_is_checked_in_full(dp: Dataplane) -> None:
    data = codec.encode_dataframe(rows(3))
    dp.predict_arrow(1, data)
    assert dp._layouts.frame(data) is not None
    with pytest.raises(PymlError) as cut:
        dp.predict_arrow(1, data[:-9])
    assert cut.value.kind is ErrorKind.INVALID_INPUT
    renamed = data.replace(b"\x01\x00\x00\x00a\x00", b"\x01\x00\x00\x00z\x00", 1)
    assert renamed != data and dp._layouts.frame(renamed) is None
    with pytest.raises(PymlError) as missing:
        dp.predict_arrow(1, renamed)
    assert "missing column 'a'" in missing.value.message


def test_the_model_gets_the_same_frame_on_both_roads(
    dp: Dataplane, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[pd.DataFrame] = []
    predict = dp.model.instance.predict

    def spy(df: pd.DataFrame) -> pd.DataFrame:
        seen.append(df.copy())
        return predict(df)

    monkeypatch.setattr(dp.model.instance, "predict", spy)
    data = codec.encode_dataframe(rows(2))
    dp.predict_arrow(1, data)  # the general road
    dp.predict_arrow(1, data)  # the known one
    general_frame, known_frame = seen
    pd.testing.assert_frame_equal(known_frame, general_frame, check_exact=True)
    assert known_frame.columns.name is None  # the model's renaming stayed with its own frame
    assert isinstance(known_frame.index, pd.RangeIndex)
    assert pa.Table.from_pandas(known_frame).schema == pa.Table.from_pandas(general_frame).schema


@pytest.fixture
def batching_dp(tmp_path: Path) -> Dataplane:
    return proba_dataplane(tmp_path / "proba", "batching = true\n")


def count_model_calls(dp: Dataplane, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    predict = dp.model.instance.predict

    def counted(df: pd.DataFrame) -> pd.DataFrame:
        calls.append(len(df))
        return predict(df)

    monkeypatch.setattr(dp.model.instance, "predict", counted)
    return calls


def test_a_batch_sent_as_validated_is_one_model_call_from_its_values_and_each_answer_its_own(
    batching_dp: Dataplane, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = [codec.encode_dataframe(rows(n)) for n in (1, 3, 1, 2)]
    alone = [general(batching_dp, data) for data in sent]
    for data in sent[:2] + sent[3:]:
        batching_dp.predict_arrow(1, data)  # learns the 1-, 3- and 2-row layouts
    calls = count_model_calls(batching_dp, monkeypatch)
    monkeypatch.setattr(batching_dp, "_read", lambda data: pytest.fail("read the general way"))
    for _ in range(2):  # the second time, every answer from its known bytes
        answers = batching_dp.predict_batch([(1, data) for data in sent])
        assert [bytes(answer) for answer in answers] == alone  # type: ignore[arg-type]
    assert calls == [7, 7]


def test_a_batchs_new_requests_teach_their_layouts_and_join_the_known_ones(
    batching_dp: Dataplane, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = [codec.encode_dataframe(rows(n)) for n in (2, 2, 1)]
    alone = [general(batching_dp, data) for data in sent]
    calls = count_model_calls(batching_dp, monkeypatch)
    answers = batching_dp.predict_batch([(1, data) for data in sent])  # nothing known yet
    assert [bytes(answer) for answer in answers] == alone  # type: ignore[arg-type]
    assert calls == [5]
    assert all(batching_dp._layouts.known(data) is not None for data in sent)


def test_a_batch_mixing_requests_sent_otherwise_answers_each_as_alone(
    batching_dp: Dataplane,
) -> None:
    sent = [
        codec.encode_dataframe(frame)
        for frame in (
            rows(1),
            rows(2).astype("float32"),  # converted: the table road
            rows(1).assign(a=[np.nan]),  # a null: the table road
            rows(3),
            rows(1)[["c", "b", "a"]],  # another order: the table road
        )
    ]
    alone = [codec.decode_dataframe(general(batching_dp, data)) for data in sent]
    for _ in range(2):
        answers = batching_dp.predict_batch([(1, data) for data in sent])
        for answer, expected in zip(answers, alone, strict=True):
            # The table road's slices may carry more bytes than their values: compare frames.
            got = codec.decode_dataframe(bytes(answer))  # type: ignore[arg-type]
            pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_a_model_that_tampers_with_a_batchs_frame_leaves_the_next_batch_alone(
    batching_dp: Dataplane,
) -> None:
    data = codec.encode_dataframe(rows(2))
    batch = [(1, data), (1, data)]
    first = batching_dp.predict_batch(batch)  # the model sets column a to -1 in its input
    assert batching_dp.predict_batch(batch) == first
