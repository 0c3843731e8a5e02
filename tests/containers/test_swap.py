"""Deploying version 2 of a served model, with real containers: version 1 serves until
version 2 is READY, then routing switches, version 1 drains (its in-flight calls finish) and
its container goes. No request fails meanwhile.

The versions are registered under names of their own (`cancer_swap`, `faulty_swap`): the
suite's `breast_cancer_lr` and `faulty` must keep exactly one version for the other tests.
Packaging a home again costs little: every image layer but the labels comes from the cache.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import docker
import grpc
import pandas as pd
import pytest

from pyml._internal.gateway_process import GatewayProcess
from pyml._internal.payloads import decode_payload, encode_payload
from pyml.client import Client, RemoteError
from pyml.model import Model
from pyml.version import ModelVersion
from tests.containers.conftest import await_gone, labelled, metric_samples
from tests.polling import await_deployment

# The load loop's bounds, per client thread: whichever comes first ends it. The count must
# outlast a deploy of version 2 (10-20 s) at the fastest rate: with runtime workers pinned to
# their CPUs a thread made 3,000 calls on version 1 before version 2 was READY, and ended.
MAX_CALLS = 50_000
MAX_SECONDS = 60.0


def _package_twice(home: Path, name: str) -> Iterator[tuple[ModelVersion, ModelVersion]]:
    model = Model.from_home(home)
    versions = (model.package(name, progress=False), model.package(name, progress=False))
    yield versions
    images = docker.from_env().images
    for version in versions:
        tag = version.image.get("tag")
        if tag:
            images.remove(tag, force=True, noprune=False)


@pytest.fixture(scope="module")
def cancer_versions(
    pyml_home: Path, cancer_home: Path
) -> Iterator[tuple[ModelVersion, ModelVersion]]:
    yield from _package_twice(cancer_home, "cancer_swap")


@pytest.fixture(scope="module")
def faulty_versions(
    pyml_home: Path, faulty_home: Path
) -> Iterator[tuple[ModelVersion, ModelVersion]]:
    yield from _package_twice(faulty_home, "faulty_swap")


@pytest.fixture()
def undeploy_after(gateway_client: Client, gateway_id: str) -> Iterator[list[str]]:
    """Names the test deployed: undeployed afterwards, and their containers awaited gone."""
    names: list[str] = []
    yield names
    for name in names:
        gateway_client.undeploy(name)
        await_gone(gateway_id, name)


@dataclass(frozen=True)
class Answer:
    started: float
    ended: float
    version: int


class Load:
    """Client threads predicting back to back without naming a version, until stopped or
    bounded (MAX_CALLS, MAX_SECONDS per thread); every answer and every error is kept."""

    def __init__(self, client: Client, model: str, payload: bytes, threads: int = 2) -> None:
        self._client = client
        self._model = model
        self._payload = payload
        self._stop = threading.Event()
        self.answers: list[list[Answer]] = [[] for _ in range(threads)]
        self.errors: list[str] = []
        self._threads = [
            threading.Thread(target=self._run, args=(mine,), daemon=True) for mine in self.answers
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(MAX_SECONDS)

    def _run(self, mine: list[Answer]) -> None:
        deadline = time.monotonic() + MAX_SECONDS
        while not self._stop.is_set() and len(mine) < MAX_CALLS and time.monotonic() < deadline:
            started = time.monotonic()
            try:
                response = self._client.predict_raw(
                    self._model, "dataframe", self._payload, timeout=30
                )
            except RemoteError as error:
                self.errors.append(f"{error.code.name}: {error.details}")
                continue
            mine.append(Answer(started, time.monotonic(), response.model_version))

    def fewest(self, version: int) -> int:
        """The fewest answers from `version` any one client thread has had."""
        return min(sum(a.version == version for a in mine) for mine in self.answers)

    def await_each(self, version: int, count: int, within: float = 60.0) -> None:
        """Bounded wait until every client thread had `count` answers from `version`."""
        deadline = time.monotonic() + within
        while (
            self.fewest(version) < count
            and time.monotonic() < deadline
            and all(t.is_alive() for t in self._threads)
        ):
            time.sleep(0.05)
        assert self.fewest(version) >= count, (version, self.fewest(version), self.errors[:5])


def test_a_new_version_takes_over_under_load_with_no_failed_request(
    gateway_client: Client,
    cancer_versions: tuple[ModelVersion, ModelVersion],
    gateway_id: str,
    cancer_rows: pd.DataFrame,
    undeploy_after: list[str],
) -> None:
    v1, v2 = cancer_versions
    assert (v1.version, v2.version) == (1, 2)
    name = v1.name
    undeploy_after.append(name)
    gateway_client.deploy(v1)
    assert len(labelled(gateway_id, name, 1)) == 1

    with Load(gateway_client, name, encode_payload("dataframe", cancer_rows.head(3))) as load:
        load.await_each(version=1, count=10)
        info = gateway_client.deploy(v2)  # returns once version 2 is READY
        load.await_each(version=2, count=25)

    assert (info.state, info.model_version) == ("READY", 2)
    assert load.errors == [], f"{len(load.errors)} requests failed during the swap"
    for mine in load.answers:
        versions = [a.version for a in mine]
        assert versions == sorted(versions), "a client thread went back to version 1"
        assert (versions[0], versions[-1]) == (1, 2)
    # Across threads: once any client had an answer from version 2, no request it started
    # later went to version 1.
    everyone = [a for mine in load.answers for a in mine]
    first_v2 = min(a.ended for a in everyone if a.version == 2)
    assert all(a.started < first_v2 for a in everyone if a.version == 1)

    await_gone(gateway_id, name, version=1)
    [new] = labelled(gateway_id, name)
    assert new.labels["io.pyml.model.version"] == "2"
    assert await_deployment(gateway_client, name, lambda d: d.model_version == 2).state == "READY"

    with pytest.raises(RemoteError) as gone:
        gateway_client.predict(name, cancer_rows.head(1), version=1)
    assert gone.value.code == grpc.StatusCode.NOT_FOUND
    assert gone.value.details == (f"model '{name}' version 1 is not deployed (live version: 2)")
    assert len(gateway_client.predict(name, cancer_rows.head(1), version=2)) == 1


def test_a_call_in_flight_on_the_old_version_finishes_after_the_switch(
    container_gateway: GatewayProcess,
    gateway_client: Client,
    faulty_versions: tuple[ModelVersion, ModelVersion],
    gateway_id: str,
    undeploy_after: list[str],
) -> None:
    v1, v2 = faulty_versions
    name = v1.name
    undeploy_after.append(name)
    gateway_client.deploy(v1)
    [old] = labelled(gateway_id, name, 1)
    [mount] = old.attrs["Mounts"]
    release = Path(mount["Source"]) / "release"  # the model's /run/pyml/release

    held_rows = encode_payload("dataframe", pd.DataFrame({"x": [-4.0]}))
    in_flight = f'pyml_predict_in_flight{{model="{name}"}}'
    with ThreadPoolExecutor(1) as pool:
        held = pool.submit(gateway_client.predict_raw, name, "dataframe", held_rows, None, 60)
        try:
            deadline = time.monotonic() + 30
            while metric_samples(container_gateway).get(in_flight) != 1:
                assert time.monotonic() < deadline and not held.done(), held
                time.sleep(0.05)

            gateway_client.deploy(v2)  # READY: new calls go to version 2
            assert gateway_client.predict(name, pd.DataFrame({"x": [1.0]}))["y"].tolist() == [2.0]
            with pytest.raises(RemoteError) as gone:
                gateway_client.predict(name, pd.DataFrame({"x": [1.0]}), version=1)
            assert gone.value.code == grpc.StatusCode.NOT_FOUND
            assert "live version: 2" in gone.value.details
            # Version 1 drains: its container serves the held call until that call ends.
            assert not held.done()
            assert [c.id for c in labelled(gateway_id, name, 1)] == [old.id]
        finally:
            # Also on a red run: never leave the call (and the test) hanging. The folder is
            # gone if version 1 was (wrongly) stopped already.
            with contextlib.suppress(FileNotFoundError):
                release.touch()
        response = held.result(timeout=60)

    assert response.model_version == 1
    output = decode_payload("dataframe", response.payload.arrow_ipc)
    assert isinstance(output, pd.DataFrame)
    assert output["y"].tolist() == [-8.0]
    await_gone(gateway_id, name, version=1)
    [new] = labelled(gateway_id, name)
    assert new.labels["io.pyml.model.version"] == "2"
