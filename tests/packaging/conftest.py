"""Packaged example versions in a throwaway registry, shared by the packaging tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pyml.model import Model
from pyml.version import ModelVersion


@pytest.fixture(scope="session")
def pyml_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """$PYML_HOME for the session: a registry nobody else sees."""
    home = tmp_path_factory.mktemp("pyml-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYML_HOME", str(home))
        yield home


@pytest.fixture(scope="session")
def packaged_cancer(pyml_home: Path, cancer_home: Path) -> Iterator[ModelVersion]:
    version = Model.from_home(cancer_home).package()
    yield version
    _remove_image(version)


@pytest.fixture(scope="session")
def packaged_tensor(pyml_home: Path, tensor_home: Path) -> Iterator[ModelVersion]:
    version = Model.from_home(tensor_home).package()
    yield version
    _remove_image(version)


def _remove_image(version: ModelVersion) -> None:
    import docker

    client = docker.from_env()
    for tag in [version.image.get("tag")]:
        if tag:
            client.images.remove(tag, force=True, noprune=False)
