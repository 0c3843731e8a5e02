"""Adaptive batching end to end: a model that opts in, served from its image by the real
gateway; concurrent 1-row calls merged into batches, each answered as if alone; per-call
errors inside a batch; the image build refusing a model that looks across rows."""

from __future__ import annotations

import shutil
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import grpc
import numpy as np
import pandas as pd
import pytest

from pyml._internal.gateway_process import GatewayProcess
from pyml.client import Client, RemoteError
from pyml.model import Model, save_validation
from pyml.registry import Registry
from pyml.version import ModelVersion, PackagingFailed, package_home
from tests.containers.conftest import metric_samples

NAME = "cancer_batched"
THREADS = 8
CALLS_PER_THREAD = 25
# The model's validation tolerance (pyml.toml has none: the defaults).
RTOL, ATOL = 1e-6, 1e-9


@pytest.fixture(scope="module")
def batched_home(cancer_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = Path(shutil.copytree(cancer_home, tmp_path_factory.mktemp("batched") / NAME))
    # The longest hold pyml.toml allows: a batch that waited for more than its share of the
    # calls in flight, or a lone call that waited at all, would show in the queue delays.
    (home / "pyml.toml").write_text(f'name = "{NAME}"\n[batching]\nmax_delay_ms = 1000\n')
    return home


@pytest.fixture(scope="module")
def packaged_batched(pyml_home: Path, batched_home: Path) -> Iterator[ModelVersion]:
    version = Model.from_home(batched_home).package(progress=False)
    yield version
    docker.from_env().images.remove(version.image["tag"], force=True, noprune=False)


@pytest.fixture(scope="module")
def batched(
    gateway_client: Client, packaged_batched: ModelVersion
) -> Iterator[tuple[Client, ModelVersion]]:
    gateway_client.deploy(NAME)
    yield gateway_client, packaged_batched
    gateway_client.undeploy(NAME)


def _calls(samples: dict[str, float], le: str) -> float:
    return samples.get(f'pyml_batch_size_bucket{{model="{NAME}",le="{le}"}}', 0.0)


def test_the_manifest_records_the_build_time_batching_check(
    packaged_batched: ModelVersion,
) -> None:
    batching = (packaged_batched.record.validation or {})["batching"]
    assert batching["enabled"] is True
    assert batching["passed"] is True
    assert batching["rows_checked"] == 57
    assert (batching["max_rows"], batching["max_delay_ms"]) == (4096, 1000)


def test_concurrent_calls_are_batched_and_each_answer_equals_its_call_alone(
    batched: tuple[Client, ModelVersion],
    container_gateway: GatewayProcess,
    cancer_home: Path,
    cancer_rows: pd.DataFrame,
) -> None:
    client, _ = batched
    local = Model.from_home(cancer_home)
    rows = [cancer_rows.iloc[[i]].reset_index(drop=True) for i in range(THREADS * CALLS_PER_THREAD)]
    deadline = time.monotonic() + 60  # bounded in time as well as in count

    def run(thread: int) -> list[tuple[int, pd.DataFrame]]:
        answers = []
        for n in range(CALLS_PER_THREAD):
            if time.monotonic() > deadline:
                break
            index = thread * CALLS_PER_THREAD + n
            answers.append((index, client.predict(NAME, rows[index], timeout=30)))
        return answers

    with ThreadPoolExecutor(THREADS) as pool:
        results = [a for answers in pool.map(run, range(THREADS)) for a in answers]
    assert len(results) == THREADS * CALLS_PER_THREAD
    for index, answer in results:
        pd.testing.assert_frame_equal(answer, local.predict(rows[index]), rtol=RTOL, atol=ATOL)

    samples = metric_samples(container_gateway)
    sends = _calls(samples, "+Inf")
    assert sends > 0
    assert _calls(samples, "1.0") < sends, "no batch of more than one call"
    assert samples[f'pyml_batch_size_sum{{model="{NAME}"}}'] >= len(results)
    assert samples[f'pyml_queue_delay_seconds_count{{model="{NAME}"}}'] >= len(results)


def _delays(gateway: GatewayProcess) -> tuple[float, float]:
    """Calls sent so far, and those of them that waited in the queue for at most 0.5 s."""
    samples = metric_samples(gateway)
    bucket = f'pyml_queue_delay_seconds_bucket{{model="{NAME}",le="%s"}}'
    return samples.get(bucket % "+Inf", 0.0), samples.get(bucket % "0.5", 0.0)


def test_concurrent_calls_wait_for_their_share_of_the_load_and_no_longer(
    batched: tuple[Client, ModelVersion],
    container_gateway: GatewayProcess,
    cancer_rows: pd.DataFrame,
) -> None:
    client, _ = batched
    row = cancer_rows.iloc[[0]].reset_index(drop=True)
    calls_per_thread = 20
    deadline = time.monotonic() + 90

    def run(_: int) -> int:
        done = 0
        while done < calls_per_thread and time.monotonic() < deadline:
            client.predict(NAME, row, timeout=30)
            done += 1
        return done

    sent_before, quick_before = _delays(container_gateway)
    with ThreadPoolExecutor(THREADS) as pool:
        done = sum(pool.map(run, range(THREADS)))
    assert done == THREADS * calls_per_thread
    sent, quick = _delays(container_gateway)
    assert sent - sent_before == done
    # 8 calls in flight on the runtime's workers: each batch waits for its share of them, which
    # comes back within milliseconds, not for the 64 calls a batch may hold (8 never come). Only
    # the last calls, when the threads stop one by one, wait out their 1,000 ms.
    assert quick - quick_before >= 0.8 * done, (quick - quick_before, done)


def test_a_lone_client_never_waits_for_a_batch(
    batched: tuple[Client, ModelVersion],
    container_gateway: GatewayProcess,
    cancer_rows: pd.DataFrame,
) -> None:
    client, _ = batched
    row = cancer_rows.iloc[[0]].reset_index(drop=True)
    time.sleep(1.2)  # the gateway forgets a load that stopped within a second
    sent_before, quick_before = _delays(container_gateway)
    for _ in range(5):
        client.predict(NAME, row, timeout=30)
    sent, quick = _delays(container_gateway)
    assert (sent - sent_before, quick - quick_before) == (5, 5), "a lone call waited"


def test_bad_calls_in_a_batch_get_their_own_errors_and_the_others_their_answers(
    batched: tuple[Client, ModelVersion], cancer_home: Path, cancer_rows: pd.DataFrame
) -> None:
    client, _ = batched
    local = Model.from_home(cancer_home)
    good = [cancer_rows.iloc[[i]].reset_index(drop=True) for i in range(40)]
    wrong_column = good[0].rename(columns={"mean radius": "radius"})
    poison = good[0].copy()
    poison.iloc[0, 0] = np.nan  # scikit-learn refuses NaN: the model raises

    def call(df: pd.DataFrame) -> pd.DataFrame | RemoteError:
        try:
            return client.predict(NAME, df, timeout=30)
        except RemoteError as error:
            return error

    # The bad calls are sent among good ones, so that they share batches with them.
    mixed = [*good[:20], wrong_column, poison, *good[20:], wrong_column, poison]
    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(call, mixed))
    for df, answer in zip(mixed, answers, strict=True):
        if df is wrong_column:
            assert isinstance(answer, RemoteError)
            assert answer.code is grpc.StatusCode.INVALID_ARGUMENT
            assert f"model '{NAME}': missing column 'mean radius'" in answer.details
        elif df is poison:
            assert isinstance(answer, RemoteError)
            assert answer.code is grpc.StatusCode.INTERNAL
            assert answer.trailers.get("pyml-error") == "MODEL_ERROR"
            assert answer.trailers.get("pyml-exception-type") == "ValueError"
            assert f"model '{NAME}' raised ValueError" in answer.details
        else:
            assert isinstance(answer, pd.DataFrame), answer
            pd.testing.assert_frame_equal(answer, local.predict(df), rtol=RTOL, atol=ATOL)


CENTERED = """
import pandas as pd
from pyml import DataFrameModel

class Centered(DataFrameModel):
    def __init__(self, home):
        pass

    def predict(self, df):
        # Looks across rows: each answer depends on the other rows of the call.
        return pd.DataFrame({"p1": df["x"] - df["x"].mean()})
"""


def test_the_image_build_refuses_batching_for_a_model_that_looks_across_rows(
    pyml_home: Path, tmp_path: Path
) -> None:
    home = tmp_path / "centered"
    home.mkdir()
    (home / "model.py").write_text(textwrap.dedent(CENTERED))
    (home / "pyml.toml").write_text('name = "pyml-batching-centered"\n')
    save_validation(home, pd.DataFrame({"x": [1.0, 2.0, 4.0, 9.0]}))
    (home / "pyml.toml").write_text('name = "pyml-batching-centered"\nbatching = true\n')
    with pytest.raises(PackagingFailed) as failed:
        # Straight to the image build: Model.package would stop at the local validation first.
        package_home(home, "pyml-batching-centered", progress=False)
    message = str(failed.value)
    assert "model 'pyml-batching-centered' sets batching = true in pyml.toml" in message
    assert "column 'p1': 3 of 4 values differ" in message
    assert "row 0: actual -3.0, expected 0.0" in message
    assert "Remove batching from pyml.toml" in message
    assert Registry.default().versions("pyml-batching-centered")[-1].status == "failed"
