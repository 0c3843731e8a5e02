"""SIGTERM, what every supervisor sends, to `pyml gateway --container`: the CLI stops the
gateway container as `docker stop` does (the JVM, PID 1, drains and removes its model
containers), removes it, and exits; before, it exited and left both running."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

import docker

from pyml._internal.gateway_container import stop_seconds
from pyml.client import Client
from pyml.version import ModelVersion
from pyml_launcher.image import BuiltImage
from tests.containers.conftest import labelled
from tests.nested.conftest import _remove_all, gateway_containers

SERVING = re.compile(r"serving grpc 127\.0\.0\.1:(\d+)")


def test_sigterm_to_pyml_gateway_container_removes_the_gateway_and_its_model_containers(
    gateway_image: BuiltImage, packaged_cancer: ModelVersion, pyml_home: Path
) -> None:
    gateway_id = f"pyml-nt-sig-{os.getpid()}"
    ports = [arg for name in ("grpc", "thrift", "oip", "http") for arg in (f"--{name}-port", "0")]
    command = [str(Path(sys.executable).with_name("pyml")), "gateway", "--container"]
    command += ["--image", gateway_image.tag, "--gateway-id", gateway_id, *ports]
    command += ["--shutdown-grace", "5"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        env={**os.environ, "COLUMNS": "400"},  # the serving line on one line
    )
    output: deque[str] = deque(maxlen=400)
    found: list[int] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip())
            serving = SERVING.search(line)
            if serving:
                found.append(int(serving.group(1)))

    threading.Thread(target=read, daemon=True).start()
    try:
        deadline = time.monotonic() + 90
        while not found:
            assert process.poll() is None and time.monotonic() < deadline, "\n".join(output)
            time.sleep(0.1)
        [gateway] = gateway_containers(gateway_id)
        # A plain `docker stop` waits for the drain and the model containers' stop too.
        assert gateway.attrs["Config"]["StopTimeout"] == stop_seconds(5)
        assert gateway.attrs["Config"]["StopSignal"] == "SIGTERM"
        with Client(f"127.0.0.1:{found[0]}", timeout=60) as client:
            client.deploy(packaged_cancer.name)
        assert len(labelled(gateway_id, packaged_cancer.name)) == 1

        process.send_signal(signal.SIGTERM)

        assert process.wait(timeout=90) == 0, "\n".join(output)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        left = _remove_all(gateway_id)
    log = "\n".join(output)
    assert left == [], log
    assert "stopped (--on-stop stop)" in log, log
    assert gateway_containers(gateway_id) == [] and labelled(gateway_id) == []
    assert docker.from_env().containers.list(all=True, filters={"name": gateway_id}) == []
