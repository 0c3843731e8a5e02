"""One real gateway (java -jar) with the two examples deployed, for every protocol's tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyml._internal.gateway_process import GatewayProcess, start_gateway
from pyml.client import Client

# Small, so oversized payloads and frames stay cheap to send.
MAX_PAYLOAD_BYTES = 1024 * 1024
# The gateway's room for a request's other fields around a payload (Gateway.java).
ENVELOPE_MARGIN_BYTES = 64 * 1024


@pytest.fixture(scope="package")
def protocol_gateway(homes: Path) -> Iterator[GatewayProcess]:
    import os

    # Short: Unix socket paths are limited to about 107 bytes.
    work = Path(tempfile.mkdtemp(prefix="pyml-proto-", dir="/tmp"))
    process = start_gateway(
        ["--max-payload-bytes", str(MAX_PAYLOAD_BYTES), "--work-dir", str(work)],
        home_deploy_roots=[homes],  # development mode: the examples run as processes
        # Its own id (and so its own state folder): one gateway per id at a time.
        gateway_id=f"pyml-proto-{os.getpid()}",
    )
    yield process
    process.stop()
    # The gateway stopped its runtimes: nothing of theirs may be left, then the folder goes.
    leftovers = sorted(p.name for p in work.iterdir())
    shutil.rmtree(work, ignore_errors=True)
    assert leftovers == [], f"socket folders left in {work}: {leftovers}"


@pytest.fixture(scope="package")
def grpc_client(
    protocol_gateway: GatewayProcess, cancer_home: Path, tensor_home: Path
) -> Iterator[Client]:
    """The PyML gRPC client, with both examples deployed and READY: the reference answers."""
    with Client(protocol_gateway.target, timeout=60) as client:
        client.deploy(cancer_home)
        client.deploy(tensor_home)
        yield client
