"""Finding 6: load kills healthy models.

On main, 16 concurrent ~60 MiB calls (or 8 concurrent 100,000-row calls) to one container
model with the default 1 GiB limit OOM-killed its container: the gateway sent every call
straight through (nothing bounded the bytes or calls in flight at a runtime) and the runtime
decoded them all at once. Now the gateway admits per replica only what fits its memory and
queues or refuses (RESOURCE_EXHAUSTED) the rest: every call is answered correctly or refused
at once, the container is never OOM-killed, and other models are served throughout.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import docker
import numpy as np
import pandas as pd
import pytest

from pyml._internal.gateway_process import GatewayProcess, start_gateway
from pyml._internal.payloads import decode_payload, encode_payload
from pyml.client import Client, RemoteError
from pyml.version import ModelVersion
from tests.security.bystander import Bystander

GATEWAY_LABEL = "io.pyml.gateway"
CANCER = "breast_cancer_lr"
TENSOR = "softmax_tensor"
# The cancer example has 30 float64 columns: 240 bytes a row in Arrow.
ROWS_60_MIB = 569 * 461  # 262,309 rows: about 60 MiB, under the gateway's 64 MiB payload limit
CALL_TIMEOUT = 120.0


@dataclass(frozen=True)
class LoadGateway:
    process: GatewayProcess
    client: Client
    gateway_id: str


@pytest.fixture(scope="module")
def load_gateway(
    pyml_home: Path, packaged_cancer: ModelVersion, packaged_tensor: ModelVersion
) -> Iterator[LoadGateway]:
    """A gateway of its own: the cancer model (default 1 GiB limit) and the bystander model."""
    gateway_id = f"pyml-load-{id(pyml_home) % 100000}"
    work = Path(tempfile.mkdtemp(prefix="pyml-ld-", dir="/tmp"))
    process = start_gateway(
        ["--work-dir", str(work), "--deploy-timeout-ms", "90000"],
        registry_dir=pyml_home / "registry",
        gateway_id=gateway_id,
    )
    try:
        with Client(process.target, timeout=60) as client:
            client.deploy(packaged_cancer.name)
            client.deploy(packaged_tensor.name)
            yield LoadGateway(process, client, gateway_id)
    finally:
        process.stop()
        for container in _containers(gateway_id):
            container.remove(force=True)
        shutil.rmtree(work, ignore_errors=True)


def _containers(gateway_id: str, model: str | None = None) -> list:  # type: ignore[type-arg]
    labels = [f"{GATEWAY_LABEL}={gateway_id}"]
    if model is not None:
        labels.append(f"io.pyml.model.name={model}")
    return list(docker.from_env().containers.list(all=True, filters={"label": labels}))


def _tensor_bystander(client: Client) -> Bystander:
    """A well-behaved client of the tensor model; its expected answer is asked for first."""
    inputs = {"x": np.random.default_rng(0).normal(size=(4, 4)).astype(np.float32)}

    def predict() -> pd.DataFrame:
        out = client.predict(TENSOR, inputs, timeout=30)
        assert isinstance(out, dict)
        return pd.DataFrame({"label": out["label"]})

    return Bystander(predict, predict())


@dataclass(frozen=True)
class Load:
    ok: int
    refused: int
    failures: list[str]
    refusal_seconds: list[float]
    """How long each refused call took, from its send to its refusal."""
    refusal_messages: list[str]


def _hammer(
    gateway: LoadGateway, frame: pd.DataFrame, expected: pd.DataFrame, concurrent: int
) -> Load:
    """`concurrent` calls of `frame` at once: answered correctly, refused, other failures."""
    payload = encode_payload("dataframe", frame)
    refusals: list[tuple[float, str]] = []

    def call() -> str:
        sent = time.monotonic()
        try:
            response = gateway.client.predict_raw(
                CANCER, "dataframe", payload, timeout=CALL_TIMEOUT
            )
        except RemoteError as error:
            if error.code.name != "RESOURCE_EXHAUSTED":
                return f"{error}"[:300]
            refusals.append((time.monotonic() - sent, str(error)))
            return "refused"
        answer = decode_payload("dataframe", response.payload.arrow_ipc)
        return "ok" if answer.reset_index(drop=True).equals(expected) else "wrong answer"

    with ThreadPoolExecutor(concurrent) as pool:
        outcomes = list(pool.map(lambda _: call(), range(concurrent)))
    return Load(
        outcomes.count("ok"),
        outcomes.count("refused"),
        [o for o in outcomes if o not in ("ok", "refused")],
        [seconds for seconds, _ in refusals],
        [message for _, message in refusals],
    )


def _peak_mib(container_id: str, reset: bool = False) -> float | None:
    """The container's peak memory (cgroup v1, as this machine's engine has), for the figures."""
    peak = Path(f"/sys/fs/cgroup/memory/docker/{container_id}/memory.max_usage_in_bytes")
    try:
        if reset:
            peak.write_text("0")
        return int(peak.read_text()) / 2**20
    except OSError:
        return None


def _rejections(gateway: LoadGateway) -> float:
    """The gateway's count of calls to the cancer model refused by a full admission queue."""
    url = f"http://127.0.0.1:{gateway.process.http_port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    sample = f'pyml_admission_rejections_total{{model="{CANCER}"}} '
    return sum(float(line[len(sample) :]) for line in text.splitlines() if line.startswith(sample))


def _assert_container_untouched(gateway: LoadGateway, before: str) -> None:
    containers = _containers(gateway.gateway_id, CANCER)
    assert [c.id for c in containers] == [before], "the model's container was replaced"
    state = docker.from_env().api.inspect_container(before)
    assert state["State"]["OOMKilled"] is False, "the model's container was OOM-killed"
    assert state["RestartCount"] == 0
    info = gateway.client.deployment(CANCER)
    assert (info.state, info.restarts) == ("READY", 0), info.reason


def _run_load(
    gateway: LoadGateway,
    frame: pd.DataFrame,
    expected: pd.DataFrame,
    concurrent: int,
) -> Load:
    (container,) = _containers(gateway.gateway_id, CANCER)
    payload = encode_payload("dataframe", frame)
    _peak_mib(container.id, reset=True)
    gateway.client.predict_raw(CANCER, "dataframe", payload, timeout=CALL_TIMEOUT)
    alone = _peak_mib(container.id)
    _peak_mib(container.id, reset=True)
    rejected_before = _rejections(gateway)
    started = time.monotonic()
    with _tensor_bystander(gateway.client) as watcher:
        load = _hammer(gateway, frame, expected, concurrent)
    elapsed = time.monotonic() - started
    slowest = max(load.refusal_seconds, default=0.0)
    print(
        f"{concurrent} calls of {len(frame)} rows ({len(payload) / 2**20:.1f} MiB): {load.ok} "
        f"answered, {load.refused} refused (slowest refusal {slowest:.2f} s), "
        f"{len(load.failures)} failed, {elapsed:.1f} s; container peak: one call alone "
        f"{alone} MiB, under load {_peak_mib(container.id)} MiB"
    )
    why = gateway.client.deployment(CANCER).reason
    assert load.failures == [], f"accepted calls failed: {load.failures[:3]} (reason: {why})"
    refused = _rejections(gateway) - rejected_before
    assert refused == load.refused, "refusals are counted in /metrics"
    assert load.ok >= 1, "no call was served at all"
    _assert_container_untouched(gateway, container.id)
    watcher.assert_served()
    return load


def _tiled(rows: pd.DataFrame, copies: int) -> pd.DataFrame:
    return pd.concat([rows] * copies, ignore_index=True)


def test_sixteen_60mib_calls_at_once_kill_no_container(
    load_gateway: LoadGateway,
    cancer_rows: pd.DataFrame,
) -> None:
    one = load_gateway.client.predict(CANCER, cancer_rows).reset_index(drop=True)
    frame = _tiled(cancer_rows, ROWS_60_MIB // len(cancer_rows))
    _run_load(load_gateway, frame, _tiled(one, len(frame) // len(one)), 16)


def test_eight_100k_row_requests_kill_no_container(
    load_gateway: LoadGateway,
    cancer_rows: pd.DataFrame,
) -> None:
    one = load_gateway.client.predict(CANCER, cancer_rows).reset_index(drop=True)
    copies = -(-100_000 // len(cancer_rows))  # 176 copies: 100,144 rows
    frame = _tiled(cancer_rows, copies)
    _run_load(load_gateway, frame, _tiled(one, copies), 8)


def test_thirty_two_100k_row_requests_restart_nothing_and_refusals_are_immediate(
    load_gateway: LoadGateway,
    cancer_rows: pd.DataFrame,
) -> None:
    """The issue's c=32 cell: 32 requests of 100,000 rows (24 MB each) at once. Every one is
    answered correctly or refused RESOURCE_EXHAUSTED by the full admission queue, which
    refuses on arrival: never after waiting out a deadline, never by a runtime that died."""
    one = load_gateway.client.predict(CANCER, cancer_rows).reset_index(drop=True)
    copies = -(-100_000 // len(cancer_rows))
    load = _run_load(load_gateway, _tiled(cancer_rows, copies), _tiled(one, copies), 32)
    # The full queue's refusal, which is decided on arrival (AdmissionQueue.admit), before the
    # call waits for anything; how long each took is printed, not asserted (a noisy machine).
    for message in load.refusal_messages:
        assert "is at capacity" in message, message
