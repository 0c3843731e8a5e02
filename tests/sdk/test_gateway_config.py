"""The gateway's config file (issue 16) through the real jar: `pyml gateway --config FILE`
serves on the file's ports (the command's own defaults yield to the file), and a file with an
unknown key stops the start naming the key, the file and the line. (Precedence, types and
--print-config in detail: GatewayConfigParserTest.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections import deque
from pathlib import Path

import pytest

from pyml._internal.gateway_process import GatewayStartError, _wait_for_ready_line, start_gateway


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_pyml_gateway_serves_the_ports_of_its_config_file(tmp_path: Path) -> None:
    gateway_id = f"pyml-config-{os.getpid()}"
    config = _config(
        tmp_path,
        f"""# every port 0: any free port, unlike `pyml gateway`'s defaults (7070, ...)
grpc-port = 0
http-port = 0
thrift-port = 0
oip-port = 0
gateway-id = "{gateway_id}"
state-dir = "{tmp_path / "state"}"
registry-dir = "{tmp_path / "registry"}"
home-deploy-roots = ["{tmp_path / "homes"}"]
""",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "pyml.cli", "gateway", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYML_HOME": str(tmp_path / "home")},
    )
    try:
        ports = _wait_for_ready_line(process, deque(maxlen=200), 60.0)
        assert set(ports) == {"grpc", "http", "thrift", "oip"}
        assert not {7070, 7071, 7080, 8001} & set(ports.values()), ports
        with socket.create_connection(("127.0.0.1", ports["grpc"]), timeout=5):
            pass  # it listens where the file said: a free port, not the command's 7070
        assert (tmp_path / "state").is_dir(), "state-dir from the file"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def test_a_config_file_with_an_unknown_key_stops_the_start(tmp_path: Path) -> None:
    config = _config(tmp_path, "grpc-port = 0\ngrpc-prot = 7070\n")
    with pytest.raises(GatewayStartError) as refused:
        start_gateway(["--config", str(config)], gateway_id=f"pyml-config-bad-{os.getpid()}")
    message = str(refused.value)
    assert "exit code 2" in message, message
    assert f"unknown key 'grpc-prot' in config file {config} line 2" in message, message
