"""A fresh gateway's log, from start to its first model served, has no warning (issues 15 and
16): no netty channel-option warning per runtime channel, no SLF4J binding messages."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from pyml._internal.gateway_process import start_gateway
from pyml.client import Client


def test_a_fresh_gateway_logs_no_warning_up_to_its_first_answer(
    homes: Path, faulty_home: Path
) -> None:
    work = Path(tempfile.mkdtemp(prefix="pyml-log-", dir="/tmp"))
    gateway = start_gateway(
        ["--work-dir", str(work), "--state-dir", str(work / "state")],
        home_deploy_roots=[homes],
        gateway_id=f"pyml-log-{os.getpid()}",
    )
    try:
        with Client(gateway.target, timeout=60) as client:
            client.deploy(faulty_home, name="quiet")
            answer = client.predict("quiet", pd.DataFrame({"x": np.array([1.0])}))
            assert answer["y"].tolist() == [2.0]
            client.undeploy("quiet")
    finally:
        gateway.stop()
        shutil.rmtree(work, ignore_errors=True)
    log = list(gateway.output)
    noisy = [line for line in log if line.startswith(("WARNING", "SEVERE")) or "SLF4J" in line]
    assert noisy == [], "\n".join(log)
