"""The systemd unit of docs/ (docs/stopping-the-gateway.md): valid for systemd, and its
settings are the gateway's."""

from __future__ import annotations

import re
import shutil
import subprocess

from pyml._internal.gateway_process import REPO_ROOT, gateway_jar

UNIT = REPO_ROOT / "docs" / "systemd" / "pyml-gateway.service"


def test_the_unit_passes_systemd_analyze_verify() -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze is missing: run scripts/bootstrap.sh (systemd)"
    checked = subprocess.run(
        [analyze, "verify", str(UNIT)], capture_output=True, text=True, timeout=60
    )
    # Unknown keys are only warnings (exit 0): any output is a finding.
    assert (checked.returncode, checked.stdout + checked.stderr) == (0, "")


def test_the_units_gateway_settings_are_the_gateways_and_it_waits_longer_than_the_grace() -> None:
    text = UNIT.read_text()
    usage = subprocess.run(
        ["java", "-jar", str(gateway_jar()), "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    for name in re.findall(r"^Environment=PYML_GATEWAY_(\w+)=", text, re.MULTILINE):
        assert f"--{name.lower().replace('_', '-')} " in usage, name
    grace = _number(r"PYML_GATEWAY_SHUTDOWN_GRACE_MS=(\d+)", text)
    stop = _number(r"^TimeoutStopSec=(\d+)$", text)
    assert stop * 1000 > grace + 15_000, "SIGKILL only after the drain and the containers' stop"
    assert "KillMode=mixed" in text and "SuccessExitStatus=143" in text


def _number(pattern: str, text: str) -> int:
    found = re.search(pattern, text, re.MULTILINE)
    assert found, pattern
    return int(found.group(1))
