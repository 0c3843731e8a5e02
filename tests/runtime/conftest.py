"""Model homes for the runtime tests: copied from tests/runtime/homes, validation data written."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.runtime.runtime_homes import copy_home, doubler_input, save_validation, scorer_input


@pytest.fixture
def scorer_home(tmp_path: Path) -> Path:
    home = copy_home("scorer", tmp_path)
    save_validation(home, scorer_input())
    return home


@pytest.fixture
def doubler_home(tmp_path: Path) -> Path:
    home = copy_home("doubler", tmp_path)
    save_validation(home, doubler_input())
    return home


@pytest.fixture
def make_home(tmp_path: Path) -> Callable[..., Path]:
    """A home folder from file texts: make_home("broken", **{"model.py": "..."})."""

    def make(name: str, **files: str) -> Path:
        home = tmp_path / name
        home.mkdir()
        for file_name, text in files.items():
            (home / file_name).write_text(textwrap.dedent(text).lstrip())
        return home

    return make


@pytest.fixture
def socket_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh, short folder path, not yet created: sun_path holds 107 bytes."""
    return tmp_path_factory.mktemp("s") / "run"
