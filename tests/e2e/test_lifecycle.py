"""Deployment lifecycle against real runtime processes: failures, death, undeploy, shutdown."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import grpc
import pandas as pd
import pytest

from pyml._internal.gateway_process import start_gateway
from pyml.client import Client, DeploymentFailed, RemoteError
from tests.polling import await_deployment


def test_a_dying_runtime_fails_the_call_at_once_and_leaves_ready(
    deployed: Client, faulty_home: Path, cancer_rows: pd.DataFrame
) -> None:
    deployed.deploy(faulty_home, name="faulty_dies")

    with pytest.raises(RemoteError) as caught:
        # A long deadline: UNAVAILABLE (not DEADLINE_EXCEEDED) shows the failure came at once.
        deployed.predict("faulty_dies", pd.DataFrame({"x": [-1.0]}), timeout=120)

    assert caught.value.code == grpc.StatusCode.UNAVAILABLE
    assert "faulty_dies" in caught.value.details
    # The supervisor restarts it: READY again (bounded wait), one restart counted.
    state = await_deployment(
        deployed, "faulty_dies", lambda d: d.state == "READY" and d.restarts > 0
    )
    assert state.restarts == 1, state
    assert state.ready_replicas == 1
    assert deployed.predict("faulty_dies", pd.DataFrame({"x": [1.0]}))["y"].tolist() == [2.0]
    assert len(deployed.predict("breast_cancer_lr", cancer_rows.head(2))) == 2


def test_validation_mismatch_fails_the_deploy_with_the_diff(
    deployed: Client, fresh_home: Callable[[str], Path]
) -> None:
    home = fresh_home("faulty")
    expected = home / "validation" / "expected.parquet"
    pd.DataFrame({"y": [2.0, 4.0, 7.5]}).to_parquet(expected)

    with pytest.raises(DeploymentFailed) as caught:
        deployed.deploy(home, name="faulty_mismatch")

    info = caught.value.deployment
    assert info.state == "FAILED"
    assert "'y'" in info.reason or "y" in info.reason
    assert "7.5" in info.reason


def test_a_model_that_cannot_load_fails_with_its_log(
    deployed: Client, fresh_home: Callable[[str], Path]
) -> None:
    home = fresh_home("faulty")
    (home / "model.py").write_text("import no_such_module_xyz\n")

    with pytest.raises(DeploymentFailed) as caught:
        deployed.deploy(home, name="faulty_import")

    text = str(caught.value)
    assert "no_such_module_xyz" in text


def test_undeploy_stops_the_runtime_and_removes_its_socket(
    deployed: Client, faulty_home: Path, work_dir: Path
) -> None:
    deployed.deploy(faulty_home, name="faulty_undeploy")
    assert _runtimes_serving("faulty_undeploy")
    assert _sockets(work_dir)

    deployed.undeploy("faulty_undeploy")

    assert not _runtimes_serving("faulty_undeploy")
    with pytest.raises(RemoteError) as caught:
        deployed.predict("faulty_undeploy", pd.DataFrame({"x": [1.0]}))
    assert caught.value.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(RemoteError) as unknown:
        deployed.undeploy("faulty_undeploy")
    assert unknown.value.code == grpc.StatusCode.NOT_FOUND


def test_gateway_shutdown_stops_its_runtimes(faulty_home: Path, tmp_path: Path) -> None:
    # Short (Unix socket paths are limited to about 107 bytes) and removed at the end.
    work = Path(tempfile.mkdtemp(prefix="pyml-shutdown-", dir="/tmp"))
    try:
        gateway = start_gateway(
            ["--work-dir", str(work)],
            home_deploy_roots=[faulty_home],
            gateway_id=f"pyml-shutdown-{os.getpid()}",  # one gateway per id at a time
        )
        try:
            with Client(gateway.target) as client:
                client.deploy(faulty_home, name="faulty_shutdown")
            assert _runtimes_serving("faulty_shutdown")
        finally:
            exit_code = gateway.stop()

        assert not _runtimes_serving("faulty_shutdown")
        assert not _sockets(work)
        assert list(work.iterdir()) == []
        assert exit_code in (0, 143), "\n".join(gateway.output)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _runtimes_serving(name: str) -> list[int]:
    """PIDs of live runtime processes started with `--name NAME`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
        except OSError:
            continue
        zombie = "State:\tZ" in status
        if b"serve" in argv and b"--name" in argv and name.encode() in argv and not zombie:
            pids.append(int(entry.name))
    return pids


def _sockets(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_socket()] if root.exists() else []
