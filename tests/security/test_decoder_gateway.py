"""Finding 5 through the whole path: hostile Arrow streams sent to one model behind the gateway.

tests/security/test_decoder.py proves each budget against the runtime alone; here the same
streams go gateway -> Unix socket -> runtime, as a client would send them. Each is refused
with the status its budget names, the attacked model serves a valid request right after, and
a well-behaved client on another model (its own runtime) is answered correctly throughout.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pandas as pd
import pytest

from pyml._internal.gateway_process import start_gateway
from pyml.client import Client, RemoteError
from tests.security import hostile_arrow
from tests.security.bystander import Bystander

VICTIM = "decoder_victim"
BYSTANDER = "decoder_bystander"
ATTEMPTS = 5  # each stream a few times: a refusal must not leave anything behind to add up


@pytest.fixture(scope="module")
def client(homes: Path, cancer_home: Path) -> Iterator[Client]:
    work = Path(tempfile.mkdtemp(prefix="pyml-dg-", dir="/tmp"))
    process = start_gateway(
        ["--work-dir", str(work)],
        home_deploy_roots=[homes],  # development mode: two runtimes of the example home
        gateway_id=f"pyml-decoder-{os.getpid()}",
    )
    try:
        with Client(process.target, timeout=60) as c:
            c.deploy(cancer_home, name=VICTIM)
            c.deploy(cancer_home, name=BYSTANDER)
            yield c
    finally:
        process.stop()
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize(
    ("attack", "code", "limit"),
    [
        (hostile_arrow.zstd_bomb, grpc.StatusCode.RESOURCE_EXHAUSTED, "MAX_DECODED_BYTES"),
        (hostile_arrow.many_batches, grpc.StatusCode.RESOURCE_EXHAUSTED, "MAX_BATCHES"),
        (hostile_arrow.duplicate_names, grpc.StatusCode.INVALID_ARGUMENT, "MAX_COLUMNS"),
        (hostile_arrow.deep_nesting, grpc.StatusCode.INVALID_ARGUMENT, "MAX_DEPTH"),
    ],
    ids=["zstd_bomb", "35000_batches", "40000_duplicate_names", "deep_nesting"],
)
def test_hostile_streams_through_the_gateway_are_refused_and_hurt_no_one(
    client: Client,
    cancer_rows: pd.DataFrame,
    attack: Callable[[], bytes],
    code: grpc.StatusCode,
    limit: str,
) -> None:
    rows = cancer_rows.head(5)
    expected = client.predict(BYSTANDER, rows)
    payload = attack()
    with Bystander(lambda: client.predict(BYSTANDER, rows, timeout=10), expected) as bystander:
        for _ in range(ATTEMPTS):
            with pytest.raises(RemoteError) as refused:
                client.predict_raw(VICTIM, "dataframe", payload, timeout=30)
        # The victim serves on: it refused the stream, it was not killed by it.
        answer = client.predict(VICTIM, rows, timeout=10)
        bystander.await_calls(3)
    bystander.assert_served()
    assert refused.value.code == code, refused.value
    assert VICTIM in refused.value.details and limit in refused.value.details, refused.value
    pd.testing.assert_frame_equal(answer, expected)
    assert client.deployment(VICTIM).restarts == 0
