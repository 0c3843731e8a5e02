"""The CLI against a real gateway (issue 15): a home folder is served only with --home, and
what fails (a second undeploy) is one `✗` line and a hint, exit code 1."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pyml._internal.gateway_process import GatewayProcess
from tests.cli import run_pyml


def pyml(*args: str) -> subprocess.CompletedProcess[str]:
    return run_pyml(*args, timeout=180)


def test_a_home_is_deployed_with_home_and_a_second_undeploy_is_one_line(
    protocol_gateway: GatewayProcess, typed_home: Path
) -> None:
    gateway = ["--gateway", protocol_gateway.target]
    deployed = pyml("deploy", "--home", str(typed_home), "--name", "typed_cli", *gateway)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "typed_cli:" in deployed.stdout and "READY" in deployed.stdout

    first = pyml("undeploy", "typed_cli", *gateway)
    assert first.returncode == 0, first.stdout + first.stderr
    second = pyml("undeploy", "typed_cli", *gateway)
    lines = (second.stdout + second.stderr).strip().splitlines()
    assert second.returncode == 1
    assert "Traceback" not in second.stdout + second.stderr
    assert lines == [
        "✗ model 'typed_cli' is not deployed",
        "  hint: 'pyml deployments' lists what the gateway serves, 'pyml models' what the "
        "registry holds",
    ]
