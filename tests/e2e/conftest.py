"""The real gateway (java -jar) with real runtime processes, for the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyml._internal.gateway_process import GatewayProcess, start_gateway
from pyml.client import Client

# Small enough that the oversized-payload test stays cheap; the default (64 MiB) is tested
# in the gateway's Java tests.
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024


@pytest.fixture(scope="package")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # Short: Unix socket paths are limited to about 107 bytes.
    import shutil
    import tempfile

    work = Path(tempfile.mkdtemp(prefix="pyml-e2e-", dir="/tmp"))
    yield work
    # After the gateway stopped (it depends on this fixture): nothing may be left behind.
    leftovers = sorted(p.name for p in work.iterdir())
    shutil.rmtree(work, ignore_errors=True)
    assert leftovers == [], f"socket folders left in {work}: {leftovers}"


@pytest.fixture(scope="package")
def access_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the package's gateway appends its access log (JSON lines)."""
    return tmp_path_factory.mktemp("access-log") / "access.log"


@pytest.fixture(scope="package")
def gateway(
    work_dir: Path, access_log: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    import os

    process = start_gateway(
        [
            *["--max-payload-bytes", str(MAX_PAYLOAD_BYTES), "--work-dir", str(work_dir)],
            *["--access-log", str(access_log), "--access-log-format", "json"],
        ],
        # Its own id: at start a gateway removes containers left with its id.
        gateway_id=f"pyml-e2e-{os.getpid()}",
        # Development mode: the session's homes and every test's tmp_path copies of them.
        home_deploy_roots=[tmp_path_factory.getbasetemp()],
    )
    yield process
    process.stop()


@pytest.fixture(scope="package")
def client(gateway: GatewayProcess) -> Iterator[Client]:
    with Client(gateway.target, timeout=60) as c:
        yield c


@pytest.fixture(scope="package")
def deployed(client: Client, cancer_home: Path, tensor_home: Path) -> Client:
    """The two examples, deployed and READY: the models that must keep serving."""
    client.deploy(cancer_home)
    client.deploy(tensor_home)
    return client
