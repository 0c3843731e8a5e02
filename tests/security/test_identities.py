"""Identities end to end: a real gateway (java -jar), the real CLI and SDK clients.

The first token (made with `pyml tokens create --admin`) turns authentication on; then a user's
grants decide what each protocol lets them do, refusals name the model and the permission,
fuzzed tokens are refused without harm, and tokens and grants survive a restart.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pandas as pd
import pytest

from pyml._internal.gateway_process import GatewayProcess, start_gateway
from pyml.client import Client, RemoteError
from pyml.thrift_client import ThriftClient


@pytest.fixture()
def state(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "state"


def _start(state: Path, homes: Path, work: Path) -> GatewayProcess:
    return start_gateway(
        ["--state-dir", str(state), "--work-dir", str(work)],
        home_deploy_roots=[homes],
        gateway_id=f"pyml-ids-{os.getpid()}",
    )


def _cli(gateway: GatewayProcess, home: Path, token: str | None, *args: str) -> str:
    env = {**os.environ, "PYML_HOME": str(home), "COLUMNS": "250"}
    env.pop("PYML_TOKEN", None)
    if token is not None:
        env["PYML_TOKEN"] = token
    done = subprocess.run(
        [sys.executable, "-m", "pyml.cli", *args, "--gateway", gateway.target],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _refused(call: object) -> RemoteError:
    with pytest.raises(RemoteError) as raised:
        call()  # type: ignore[operator]
    return raised.value


def test_grants_decide_every_protocol_and_survive_a_restart(
    state: Path, homes: Path, cancer_home: Path, tensor_home: Path, cancer_rows: pd.DataFrame
) -> None:
    # Short (Unix socket paths), and the gateway's own: it opens it to the runtime user.
    work = Path(tempfile.mkdtemp(prefix="pyml-ids-", dir="/tmp"))
    cli_home = state.parent / "cli"
    gateway = _start(state, homes, work)
    try:
        assert "no identities" in _cli(gateway, cli_home, None, "whoami")
        root = _cli(gateway, cli_home, None, "tokens", "create", "root", "--admin").split()[-1]
        with Client(gateway.target, timeout=120, token=root) as admin:
            admin.deploy(cancer_home)
            admin.deploy(tensor_home)
            alice, _ = admin.create_token("alice")
        _cli(gateway, cli_home, root, "grants", "add", "breast_cancer_lr", "alice", "predict")
        rows = cancer_rows.head(3)

        with Client(gateway.target, token=alice) as as_alice, Client(gateway.target) as nobody:
            expected = as_alice.predict("breast_cancer_lr", rows)
            assert len(expected) == 3
            tensors = {"x": np.ones((1, 4), dtype=np.float32)}
            denied = _refused(lambda: as_alice.predict("softmax_tensor", tensors))
            assert denied.code == grpc.StatusCode.PERMISSION_DENIED
            assert denied.details == (
                "'alice' lacks the 'predict' permission on model 'softmax_tensor'"
            )
            denied = _refused(lambda: as_alice.undeploy("breast_cancer_lr"))
            assert denied.details == (
                "'alice' lacks the 'deploy' permission on model 'breast_cancer_lr'"
            )
            assert as_alice.deployment("breast_cancer_lr").state == "READY"
            assert [d.model_name for d in as_alice.deployments()] == ["breast_cancer_lr"]
            missing = _refused(lambda: nobody.predict("breast_cancer_lr", rows))
            assert missing.code == grpc.StatusCode.UNAUTHENTICATED
            assert "needs a token with the 'predict' permission" in missing.details

        with ThriftClient("127.0.0.1", gateway.thrift_port, token=alice) as thrift:
            pd.testing.assert_frame_equal(thrift.predict("breast_cancer_lr", rows), expected)
            tensors = {"x": np.ones((1, 4), dtype=np.float32)}
            denied = _refused(lambda: thrift.predict("softmax_tensor", tensors))
            assert denied.code == grpc.StatusCode.PERMISSION_DENIED
            assert [name for name, _, _ in thrift.models()] == ["breast_cancer_lr"]

        # Fuzzed tokens: refused, and the gateway keeps serving the others.
        fuzz = random.Random(14)
        for _ in range(100):
            junk = "".join(chr(fuzz.randrange(0x21, 0x7F)) for _ in range(fuzz.randrange(1, 300)))
            with Client(gateway.target, token=junk) as forged:
                assert _refused(forged.whoami).code == grpc.StatusCode.UNAUTHENTICATED
        with Client(gateway.target, token=alice) as as_alice:
            pd.testing.assert_frame_equal(as_alice.predict("breast_cancer_lr", rows), expected)

        audit = _cli(gateway, cli_home, root, "audit", "--limit", "200")
        assert "denied" in audit and "unauthenticated" in audit and "grant" in audit

        gateway.stop()
        gateway = _start(state, homes, work)
        with Client(gateway.target, token=alice) as as_alice:
            assert as_alice.whoami().identity == "alice"
            assert _refused(lambda: as_alice.deploy(cancer_home)).code == (
                grpc.StatusCode.PERMISSION_DENIED
            )
        with Client(gateway.target, token=root) as admin:
            assert [(g.model_name, g.identity, g.permission) for g in admin.grants()] == [
                ("breast_cancer_lr", "alice", "predict")
            ]
    finally:
        gateway.stop()
        shutil.rmtree(work, ignore_errors=True)


def test_login_keeps_the_token_owner_only_and_clients_find_it(
    state: Path, homes: Path, tmp_path: Path
) -> None:
    work = Path(tempfile.mkdtemp(prefix="pyml-ids-", dir="/tmp"))
    cli_home = tmp_path / "cli"
    gateway = _start(state, homes, work)
    try:
        root = _cli(gateway, cli_home, None, "tokens", "create", "root", "--admin").split()[-1]
        assert "signed in" in _cli(gateway, cli_home, None, "login", root)
        token_file = cli_home / "token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        assert "root (gateway admin)" in _cli(gateway, cli_home, None, "whoami")
    finally:
        gateway.stop()
        shutil.rmtree(work, ignore_errors=True)
