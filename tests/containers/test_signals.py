"""SIGTERM, what every supervisor sends, to the gateway on the host: through `make gateway`
(make → `pyml gateway` → the JVM it execs) and to `java -jar` directly. The gateway stops
taking calls, lets the one in flight finish, then stops its model containers (the default)
or leaves them for the next gateway of its id to adopt (--on-stop leave)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pandas as pd
import pytest

from pyml._internal.gateway_process import (
    REPO_ROOT,
    GatewayProcess,
    _drain,
    _wait_for_ready_line,
    start_gateway,
)
from pyml.client import Client, RemoteError
from pyml.version import ModelVersion
from tests.containers.conftest import labelled, metric_samples
from tests.polling import await_deployment

SIGTERM_EXIT = 143  # the JVM's exit after SIGTERM, once its shutdown hook has run
HELD = pd.DataFrame({"x": [-4.0]})  # the faulty model holds it until `release` appears


@pytest.fixture()
def signal_gateway_id() -> Iterator[str]:
    """An id of the test's own; whatever carries it is removed after, then must be gone."""
    gateway_id = f"pyml-sig-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    yield gateway_id
    left = labelled(gateway_id)
    for container in left:
        container.remove(force=True)
    assert not left, f"containers left: {[c.name for c in left]}"


@pytest.fixture()
def folders() -> Iterator[Path]:
    """Work and state folders of the test's gateways (short: Unix socket paths)."""
    root = Path(tempfile.mkdtemp(prefix="pyml-sig-", dir="/tmp"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_sigterm_to_make_gateway_lets_the_call_in_flight_finish_then_removes_the_containers(
    packaged_faulty: ModelVersion, signal_gateway_id: str
) -> None:
    ports = " ".join(f"--{name}-port 0" for name in ("grpc", "thrift", "oip", "http"))
    args = f"{ports} --gateway-id {signal_gateway_id} --shutdown-grace 60"
    # -o setup: the session's checkout is set up; make only runs `pyml gateway`.
    process = subprocess.Popen(
        ["make", "-s", "-o", "setup", "gateway", f"GATEWAY_ARGS={args}"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    output: deque[str] = deque(maxlen=400)
    try:
        ready = _wait_for_ready_line(process, output, 60)
        threading.Thread(target=_drain, args=(process, output), daemon=True).start()
        gateway = GatewayProcess(process, ready["grpc"], output, ready)
        with Client(gateway.target, timeout=60) as client:
            client.deploy(packaged_faulty.name)
            [container] = labelled(signal_gateway_id, packaged_faulty.name)
            release = Path(container.attrs["Mounts"][0]["Source"]) / "release"
            with ThreadPoolExecutor(1) as pool:
                held = pool.submit(client.predict, packaged_faulty.name, HELD, None, 60)
                try:
                    _await_in_flight(gateway, packaged_faulty.name, held)
                    process.send_signal(signal.SIGTERM)  # to make, which passes it on
                    _await_refusal(gateway.target)
                    assert not held.done(), "the call in flight is not cut"
                finally:
                    with contextlib.suppress(FileNotFoundError):
                        release.touch()
                answer = held.result(timeout=60)
        assert answer["y"].tolist() == [-8.0]
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    log = "\n".join(output)
    assert labelled(signal_gateway_id) == [], log
    assert "left running" not in log and "stopped (--on-stop stop)" in log, log
    assert process.returncode != 0  # make reports its child's SIGTERM exit


def test_sigterm_in_leave_mode_leaves_the_container_for_the_next_gateway_to_adopt(
    packaged_faulty: ModelVersion, signal_gateway_id: str, folders: Path, pyml_home: Path
) -> None:
    args = ["--work-dir", str(folders / "w"), "--state-dir", str(folders / "s")]
    first = start_gateway(
        [*args, "--on-stop", "leave"],
        registry_dir=pyml_home / "registry",
        gateway_id=signal_gateway_id,
    )
    try:
        with Client(first.target, timeout=60) as client:
            client.deploy(packaged_faulty.name)
        [left] = labelled(signal_gateway_id, packaged_faulty.name)
        first.process.send_signal(signal.SIGTERM)
        assert first.process.wait(timeout=60) == SIGTERM_EXIT, "\n".join(first.output)
    finally:
        first.stop()
    [still] = labelled(signal_gateway_id, packaged_faulty.name)
    assert (still.id, still.status) == (left.id, "running"), "\n".join(first.output)

    second = start_gateway(args, registry_dir=pyml_home / "registry", gateway_id=signal_gateway_id)
    try:
        with Client(second.target, timeout=60) as client:
            await_deployment(client, packaged_faulty.name, lambda d: d.state == "READY", 60)
            answer = client.predict(packaged_faulty.name, pd.DataFrame({"x": [1.0]}))
        assert answer["y"].tolist() == [2.0]
        assert [c.id for c in labelled(signal_gateway_id)] == [left.id], "adopted, not replaced"
        assert "adopted container" in "\n".join(second.output)
    finally:
        assert second.stop() == SIGTERM_EXIT  # default --on-stop stop: nothing is left
    assert labelled(signal_gateway_id) == []


def _await_in_flight(gateway: GatewayProcess, model: str, held: object) -> None:
    """Until the held call is in the model (bounded)."""
    in_flight = f'pyml_predict_in_flight{{model="{model}"}}'
    deadline = time.monotonic() + 30
    while metric_samples(gateway).get(in_flight) != 1:
        assert time.monotonic() < deadline, f"the call never got in flight: {held}"
        time.sleep(0.05)


def _await_refusal(target: str) -> None:
    """Until a new call is refused (bounded): the stopping gateway takes no new call."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with Client(target, timeout=5) as client:
                client.predict("faulty", pd.DataFrame({"x": [1.0]}))
        except RemoteError as error:
            assert error.code == grpc.StatusCode.UNAVAILABLE, error
            return
        assert time.monotonic() < deadline, "new calls still accepted 30 s after SIGTERM"
        time.sleep(0.05)
