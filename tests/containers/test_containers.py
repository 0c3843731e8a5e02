"""Registered versions served by the real gateway from their images, in real containers:
exact answers, hardening, and the faults a production model server meets."""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import docker
import grpc
import numpy as np
import pandas as pd
import pytest

from pyml._internal.gateway_process import GatewayProcess, start_gateway
from pyml.client import Client, DeploymentInfo, RemoteError
from pyml.model import Model
from pyml.version import ModelVersion
from pyml_launcher.container_policy import default_runtime_limits
from pyml_runtime.validation import load_validation
from tests.containers.conftest import await_gone, labelled, metric_samples
from tests.hardening import assert_hardened
from tests.polling import await_deployment

MiB = 1024 * 1024


def test_versions_serve_exactly_what_the_model_predicts_in_process(
    serving: Client,
    packaged_cancer: ModelVersion,
    packaged_tensor: ModelVersion,
    cancer_home: Path,
    tensor_home: Path,
    cancer_rows: pd.DataFrame,
) -> None:
    rows = cancer_rows.head(50)
    online = serving.predict("breast_cancer_lr", rows)
    pd.testing.assert_frame_equal(
        online, Model.from_home(cancer_home).predict(rows), rtol=0, atol=0
    )

    tensors = load_validation(tensor_home, "tensors").input
    online_tensors = serving.predict("softmax_tensor", tensors)
    local = Model.from_home(tensor_home).predict(tensors)
    assert set(online_tensors) == set(local)
    for key, value in local.items():
        assert np.array_equal(online_tensors[key], value), key

    info = serving.deployment("breast_cancer_lr")
    assert (info.state, info.model_version, info.replicas) == ("READY", 1, 2)
    assert info.image == packaged_cancer.image["id"]
    assert info.home_path == ""
    assert serving.deployment("softmax_tensor").image == packaged_tensor.image["id"]


def test_a_100000_row_request_through_the_gateway_gets_the_in_process_answer(
    serving: Client, cancer_home: Path, cancer_rows: pd.DataFrame
) -> None:
    # ~24 MB of Arrow: parsed by the gateway with one copy, forwarded, decoded in the container.
    rows = cancer_rows.sample(100_000, replace=True, random_state=0).reset_index(drop=True)
    online = serving.predict("breast_cancer_lr", rows, timeout=120)
    pd.testing.assert_frame_equal(
        online, Model.from_home(cancer_home).predict(rows), rtol=0, atol=0
    )


def test_containers_run_hardened_and_labelled(serving: Client, gateway_id: str) -> None:
    await_deployment(serving, "breast_cancer_lr", lambda d: d.ready_replicas == 2)
    containers = labelled(gateway_id, "breast_cancer_lr")
    assert len(containers) == 2
    for container in containers:
        assert_hardened(container.attrs, "runtime")  # container_policy.json, as Python reads it
        host = container.attrs["HostConfig"]
        memory, pids = default_runtime_limits()
        assert host["Memory"] == host["MemorySwap"] == memory == 1024 * MiB
        # Every CPU the gateway sees (as Java counts them), one runtime worker per CPU.
        assert host["NanoCpus"] == len(os.sched_getaffinity(0)) * 1_000_000_000
        assert container.labels["io.pyml.runtime-workers"] == str(len(os.sched_getaffinity(0)))
        assert host["PidsLimit"] == pids == 256
        assert container.labels["io.pyml.model.version"] == "1"
        [mount] = container.attrs["Mounts"]
        assert mount["Destination"] == "/run/pyml"


def test_a_container_killed_mid_request_fails_the_call_at_once_and_is_restarted(
    serving: Client, faulty: Callable[..., DeploymentInfo], gateway_id: str
) -> None:
    faulty()
    outcome: list[BaseException | float] = []

    def slow_call() -> None:
        start = time.monotonic()
        try:
            serving.predict("faulty", pd.DataFrame({"x": [-2.0]}), timeout=120)
            outcome.append(-1.0)
        except RemoteError as exc:
            outcome.append(exc)
            outcome.append(time.monotonic() - start)

    caller = threading.Thread(target=slow_call)
    caller.start()
    time.sleep(1.0)  # the call is in the model's 4 s sleep
    [container] = labelled(gateway_id, "faulty")
    killed_at = time.monotonic()
    container.kill()  # SIGKILL, as `docker kill`
    caller.join(30)

    error = outcome[0]
    assert isinstance(error, RemoteError), outcome
    assert error.code == grpc.StatusCode.UNAVAILABLE
    assert "faulty" in error.details
    assert time.monotonic() - killed_at < 2.5, "the in-flight call must fail at once"
    info = await_deployment(serving, "faulty", lambda d: d.state == "READY" and d.restarts > 0)
    assert info.restarts == 1
    assert "exited with code 137" in info.reason, info
    assert serving.predict("faulty", pd.DataFrame({"x": [1.0]}))["y"].tolist() == [2.0]


def test_a_model_exiting_on_one_input_fails_that_call_and_is_restarted(
    serving: Client, faulty: Callable[..., DeploymentInfo]
) -> None:
    faulty()
    start = time.monotonic()
    with pytest.raises(RemoteError) as caught:
        serving.predict("faulty", pd.DataFrame({"x": [-1.0]}), timeout=120)
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE
    assert time.monotonic() - start < 5

    info = await_deployment(serving, "faulty", lambda d: d.state == "READY" and d.restarts > 0)
    assert "runtime container exited with code 3" in info.reason, info
    assert serving.predict("faulty", pd.DataFrame({"x": [3.0]}))["y"].tolist() == [6.0]


def test_a_model_sleeping_past_the_deadline_gets_deadline_exceeded_and_stays_ready(
    serving: Client, faulty: Callable[..., DeploymentInfo], cancer_rows: pd.DataFrame
) -> None:
    faulty()
    start = time.monotonic()
    with pytest.raises(RemoteError) as caught:
        serving.predict("faulty", pd.DataFrame({"x": [-2.0]}), timeout=1.5)
    elapsed = time.monotonic() - start
    assert caught.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert 1.4 <= elapsed < 3.0, f"answered after {elapsed:.2f} s, not at the 1.5 s deadline"

    # While the model still sleeps its runtime answers health: not restarted, still READY.
    assert len(serving.predict("breast_cancer_lr", cancer_rows.head(2))) == 2
    time.sleep(3.0)
    info = serving.deployment("faulty")
    assert (info.state, info.restarts) == ("READY", 0), info
    assert serving.predict("faulty", pd.DataFrame({"x": [2.0]}))["y"].tolist() == [4.0]


def test_a_model_over_its_memory_limit_is_reported_out_of_memory(
    serving: Client, faulty: Callable[..., DeploymentInfo], gateway_id: str
) -> None:
    faulty(resources={"memory": "256m"})
    [container] = labelled(gateway_id, "faulty")
    assert container.attrs["HostConfig"]["Memory"] == 256 * MiB

    with pytest.raises(RemoteError) as caught:
        serving.predict("faulty", pd.DataFrame({"x": [-3.0]}), timeout=120)
    assert caught.value.code == grpc.StatusCode.UNAVAILABLE

    info = await_deployment(serving, "faulty", lambda d: d.state == "READY" and d.restarts > 0)
    assert "out of memory (limit 256 MiB)" in info.reason, info


def test_unknown_and_tampered_versions_are_refused_and_nothing_runs(
    serving: Client, packaged_faulty: ModelVersion, pyml_home: Path, gateway_id: str
) -> None:
    with pytest.raises(RemoteError) as unknown:
        serving.deploy("no_such_model")
    assert unknown.value.code == grpc.StatusCode.NOT_FOUND
    assert "faulty" in unknown.value.details, "lists the registered models"
    with pytest.raises(RemoteError) as no_version:
        serving.deploy("faulty:99")
    assert no_version.value.code == grpc.StatusCode.NOT_FOUND
    assert "versions: 1" in no_version.value.details

    versions = pyml_home / "registry" / "models" / "faulty" / "versions"
    archive = versions / "1" / "home.tar.gz"
    original = archive.read_bytes()
    try:
        archive.write_bytes(original[:-10] + bytes([original[-10] ^ 1]) + original[-9:])
        with pytest.raises(RemoteError) as tampered:
            packaged_faulty.deploy(gateway=serving.target, progress=False)
    finally:
        archive.write_bytes(original)
    assert tampered.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "faulty:1 is tampered" in tampered.value.details
    assert str(archive) in tampered.value.details

    assert "faulty" not in [d.model_name for d in serving.deployments()]
    assert labelled(gateway_id, "faulty") == []


def test_docker_unreachable_is_a_clear_error_with_no_half_state(
    pyml_home: Path, gateway_id: str, packaged_faulty: ModelVersion, tmp_path: Path
) -> None:
    host = "unix:///nonexistent.sock"
    other: GatewayProcess = start_gateway(
        ["--work-dir", str(tmp_path / "w")],
        registry_dir=pyml_home / "registry",
        gateway_id=f"{gateway_id}-nodocker",
        docker_host=host,
    )
    try:
        with Client(other.target) as client:
            start = time.monotonic()
            with pytest.raises(RemoteError) as caught:
                client.deploy("faulty")
            assert caught.value.code == grpc.StatusCode.UNAVAILABLE
            assert f"cannot reach Docker at {host}" in caught.value.details
            assert time.monotonic() - start < 10, "fails at once"
            assert client.deployments() == []
    finally:
        other.stop()
    leftovers = list((tmp_path / "w").iterdir()) if (tmp_path / "w").exists() else []
    assert leftovers == []
    shutil.rmtree(tmp_path / "w", ignore_errors=True)


def test_prometheus_metrics_count_the_faults_by_outcome(
    container_gateway: GatewayProcess, serving: Client
) -> None:
    samples = metric_samples(container_gateway)
    assert samples['pyml_predict_requests_total{model="breast_cancer_lr",outcome="OK"}'] > 0
    assert samples['pyml_predict_requests_total{model="faulty",outcome="UNAVAILABLE"}'] >= 3
    assert samples['pyml_predict_requests_total{model="faulty",outcome="DEADLINE_EXCEEDED"}'] >= 1
    assert samples['pyml_ready_replicas{model="breast_cancer_lr"}'] == 2
    assert samples['pyml_runtime_restarts_total{model="breast_cancer_lr"}'] == 0
    count = samples['pyml_predict_latency_seconds_count{model="breast_cancer_lr"}']
    assert (
        samples['pyml_predict_latency_seconds_bucket{model="breast_cancer_lr",le="+Inf"}'] == count
    )


def test_the_cli_deploys_lists_and_undeploys_a_registered_version(
    serving: Client, packaged_faulty: ModelVersion, gateway_id: str
) -> None:
    from typer.testing import CliRunner

    from pyml.cli import app

    runner = CliRunner()
    target = ["--gateway", serving.target]
    deployed = runner.invoke(app, ["deploy", "faulty:1", *target, "--memory", "512m"])
    try:
        assert deployed.exit_code == 0, deployed.output
        assert "faulty:1" in deployed.output and "READY" in deployed.output
        [container] = labelled(gateway_id, "faulty")
        assert container.attrs["HostConfig"]["Memory"] == 512 * MiB
        # Readable in `docker ps`: model, version, deployment/replica/start, gateway.
        assert re.fullmatch(rf"pyml-faulty-v1-d\d+r0a\d+-{gateway_id}", container.name)

        listed = runner.invoke(app, ["deployments", *target])
        assert listed.exit_code == 0, listed.output
        # Rich wraps or shortens cells on a narrow console: check values, not the layout.
        for value in ("faulty", "READY", "1/1", "2/2", "sha256"):
            assert value in listed.output, listed.output

        refused = runner.invoke(app, ["deploy", "faulty:7", *target])
        assert refused.exit_code == 1
        # Raised to `pyml`'s main(), which prints it as one line and a hint.
        assert isinstance(refused.exception, RemoteError), refused.output
        assert refused.exception.code.name == "NOT_FOUND"
    finally:
        undeployed = runner.invoke(app, ["undeploy", "faulty", *target])
    assert undeployed.exit_code == 0, undeployed.output
    await_gone(gateway_id, "faulty")


def test_the_suite_leaves_no_container_of_the_faulty_model(gateway_id: str) -> None:
    # Each fault test undeploys; the session fixture checks everything else at the end.
    assert (
        docker.from_env().containers.list(
            all=True,
            filters={"label": [f"io.pyml.gateway={gateway_id}", "io.pyml.model.name=faulty"]},
        )
        == []
    )
