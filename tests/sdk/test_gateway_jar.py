"""Where `pyml gateway` finds its jar (issue 17): PYML_GATEWAY_JAR, the installed
pyml-gateway distribution, a checkout's build; none is one line that says what to install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pyml._internal import gateway_process
from pyml._internal.gateway_process import GatewayStartError, gateway_jar


def test_the_variable_names_a_jar_that_must_exist(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PYML_GATEWAY_JAR", str(tmp_path / "nope.jar"))
    with pytest.raises(GatewayStartError, match=r"PYML_GATEWAY_JAR=.*nope.jar: no such file"):
        gateway_jar()


def test_the_installed_distribution_comes_before_a_checkout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    installed = tmp_path / "pyml-gateway.jar"
    installed.write_bytes(b"PK")
    fake = type(sys)("pyml_gateway")
    fake.jar = lambda: installed  # type: ignore[attr-defined]
    monkeypatch.delenv("PYML_GATEWAY_JAR", raising=False)
    monkeypatch.setitem(sys.modules, "pyml_gateway", fake)
    assert gateway_jar() == installed


def test_no_jar_anywhere_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PYML_GATEWAY_JAR", raising=False)
    monkeypatch.setitem(sys.modules, "pyml_gateway", None)  # not installed
    monkeypatch.setattr(gateway_process, "CHECKOUT_JAR", tmp_path / "missing.jar")
    with pytest.raises(GatewayStartError, match="no gateway jar is installed") as caught:
        gateway_jar()
    assert "pip install 'pyml[gateway]'" in getattr(caught.value, "hint", "")
