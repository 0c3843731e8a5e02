"""The JRE and pyspark that offline jobs mount: one cache for every PYML_HOME (issue 15)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyml_offline import mounts


def test_the_cache_is_the_machines_not_each_pyml_homes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Path] = []

    def record(target: Path, make: Callable[[Path], None]) -> None:
        made.append(target)  # where it would be made; nothing is copied

    monkeypatch.setattr(mounts, "make_atomically", record)
    monkeypatch.delenv("PYML_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    seen = []
    for home in ("one", "two"):
        monkeypatch.setenv("PYML_HOME", str(tmp_path / home))
        seen.append((mounts.jre_dir(), mounts.pyspark_dir()))
    assert seen[0] == seen[1], "two PYML_HOMEs share one JRE and one pyspark"
    assert seen[0][0].parent == tmp_path / "xdg" / "pyml" / "jre"
    monkeypatch.setenv("PYML_CACHE", str(tmp_path / "mine"))
    assert mounts.shared_cache() == tmp_path / "mine"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("PYML_CACHE")
    assert mounts.shared_cache() == Path("~/.cache/pyml").expanduser()
