"""`make dist` builds one version or nothing (scripts/dist.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

import pyml_runtime

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "dist.py"


def dist_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pyml_dist", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_place_says_the_same_version() -> None:
    dist = dist_script()
    found = dist.versions()
    assert set(found.values()) == {pyml_runtime.__version__}, found
    assert len(found) == 7  # pyproject, its gateway pin, two poms, the gateway's two, runtime


def test_versions_that_differ_stop_the_build_naming_each_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dist = dist_script()
    monkeypatch.setattr(dist, "versions", lambda: {"pyproject.toml": "0.2.0", "pom.xml": "0.1.0"})
    with pytest.raises(dist.DistError) as caught:
        dist.the_version()
    assert str(caught.value) == (
        "PyML's versions differ; make them one:\n  pyproject.toml: 0.2.0\n  pom.xml: 0.1.0"
    )
