"""Fixtures of the registry tests: a registry in a temporary folder and two model homes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyml.registry import LocalStorage, Registry
from tests.registry.homes import dataframe_home, tensor_home


@pytest.fixture
def registry_root(tmp_path: Path) -> Path:
    return tmp_path / "registry"


@pytest.fixture
def registry(registry_root: Path) -> Registry:
    return Registry(LocalStorage(registry_root))


@pytest.fixture
def df_home(tmp_path: Path) -> Path:
    return dataframe_home(tmp_path / "homes" / "scaler")


@pytest.fixture
def tensors_home(tmp_path: Path) -> Path:
    return tensor_home(tmp_path / "homes" / "doubler")
