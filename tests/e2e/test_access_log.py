"""The access log of the real gateway: one JSON line per prediction, OK or failed."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pyml._internal.gateway_process import GatewayProcess
from pyml.client import Client, RemoteError


def _await_line(log: Path, match: dict[str, Any], within: float = 10.0) -> dict[str, Any]:
    """The first logged line holding every field of `match` (the writer is asynchronous)."""
    deadline = time.monotonic() + within
    while True:
        lines = [json.loads(text) for text in log.read_text().splitlines()] if log.exists() else []
        for line in lines:
            if all(line.get(key) == value for key, value in match.items()):
                return line
        if time.monotonic() > deadline:
            raise AssertionError(f"no line with {match} in {log}:\n{lines[-20:]}")
        time.sleep(0.05)


def test_ok_and_failed_calls_are_logged(
    deployed: Client, gateway: GatewayProcess, access_log: Path, cancer_rows: pd.DataFrame
) -> None:
    deployed.predict("breast_cancer_lr", cancer_rows.head(3))
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    with pytest.raises(RemoteError):
        deployed.predict(missing, cancer_rows.head(1))
    request = urllib.request.Request(
        f"http://127.0.0.1:{gateway.http_port}/v2/models/{missing}/infer",
        data=b'{"inputs": []}',
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 404

    ok = _await_line(access_log, {"model": "breast_cancer_lr", "status": "OK"})
    assert ok["protocol"] == "grpc"
    assert ok["version"] == 0 and ok["caller"] == "local"  # a home folder is version 0
    assert ok["bytes_in"] > 0 and ok["bytes_out"] > 0 and ok["latency_ms"] > 0
    assert set(ok) == {
        *("time", "protocol", "model", "version", "status", "latency_ms"),
        *("bytes_in", "bytes_out", "caller", "request_id"),
    }
    failed = _await_line(access_log, {"model": missing, "protocol": "grpc"})
    assert failed["status"] == "NOT_FOUND" and failed["bytes_out"] == 0
    rest = _await_line(access_log, {"model": missing, "protocol": "v2-rest"})
    assert rest["status"] == "NOT_FOUND"
