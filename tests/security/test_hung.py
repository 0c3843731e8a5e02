"""Finding 8: one hung call wedges its model.

On main a predict that never returns held the runtime's model lock for good: every later call
to that model timed out while the deployment stayed READY and its health SERVING, until the
runtime's worker threads ran out. Now the runtime's call gets the client's deadline plus a
grace; a call that outlives it while its runtime worker answered nothing else shows that
worker is stuck in model code, and the gateway kills and replaces the runtime (the runtime's
other workers may serve meanwhile). The client of the hung call gets DEADLINE_EXCEEDED at its
own deadline, later calls are served again within bounded time, and other models are served
throughout.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pandas as pd
import pytest

from pyml._internal.gateway_process import start_gateway
from pyml.client import Client, RemoteError
from tests.polling import await_deployment
from tests.security.bystander import Bystander

GRACE_MS = 1000
HUNG_TIMEOUT = 1.5
NORMAL_TIMEOUT = 4.0
# Hung call deadline + grace + SIGTERM's 5 s before SIGKILL + a process runtime's restart.
SERVED_AGAIN_WITHIN = 20.0
FOREVER = pd.DataFrame({"x": [-5.0]})  # the faulty model's predict never returns for this


@pytest.fixture(scope="module")
def hung_client(homes: Path, faulty_home: Path, cancer_home: Path) -> Iterator[Client]:
    work = Path(tempfile.mkdtemp(prefix="pyml-hg-", dir="/tmp"))
    process = start_gateway(
        [
            "--work-dir",
            str(work),
            "--home-deploy-roots",
            str(homes),
            "--hung-call-grace-ms",
            str(GRACE_MS),
        ],
        gateway_id=f"pyml-hung-{os.getpid()}",
    )
    try:
        with Client(process.target, timeout=60) as client:
            client.deploy(faulty_home, name="hung_faulty")
            client.deploy(cancer_home, name="hung_bystander")
            yield client
    finally:
        process.stop()
        shutil.rmtree(work, ignore_errors=True)


def test_hung_call_does_not_wedge_the_model(hung_client: Client, cancer_rows: pd.DataFrame) -> None:
    rows = cancer_rows.head(5)
    expected = hung_client.predict("hung_bystander", rows)
    normal = pd.DataFrame({"x": [1.0, 2.0]})
    with Bystander(
        lambda: hung_client.predict("hung_bystander", rows, timeout=10), expected
    ) as bystander:
        started = time.monotonic()
        with pytest.raises(RemoteError) as hung:
            hung_client.predict("hung_faulty", FOREVER, timeout=HUNG_TIMEOUT)
        assert hung.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
        assert time.monotonic() - started < HUNG_TIMEOUT + 1.0, "answered at its own deadline"

        served_after = None
        errors: list[str] = []
        while time.monotonic() - started < SERVED_AGAIN_WITHIN:  # bounded in time and count
            try:
                answer = hung_client.predict("hung_faulty", normal, timeout=NORMAL_TIMEOUT)
            except RemoteError as error:
                errors.append(f"{error.code.name}: {error.details}"[:200])
                time.sleep(0.2)
                continue
            assert answer["y"].tolist() == [2.0, 4.0]
            served_after = time.monotonic() - started
            break
        print(f"served again {served_after} s after the hung call; meanwhile: {errors}")
        assert served_after is not None, (
            f"the model was not served again within {SERVED_AGAIN_WITHIN} s: {errors[-3:]}"
        )
        # Other runtime workers may serve before the hung one overran its grace: bounded wait.
        info = await_deployment(
            hung_client, "hung_faulty", lambda d: d.restarts >= 1 and d.state == "READY", 30
        )
        assert info.restarts == 1
        assert "stuck in model code" in info.reason
        # While no replica was left, calls were refused with the current reason, not a stale one.
        current = "a call was still in the model's predict"
        assert all(current in e or e.startswith("DEADLINE") for e in errors), errors
    bystander.assert_served()
