"""Fixtures of the image builder tests: a real Docker engine, PyML's base image, the example
images built once per session, and the clean-up of every container and tag the tests made.

Missing Docker is a failure with a clear message, never a skip.
"""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyml_launcher.context import image_tag
from pyml_launcher.image import BuiltImage, build_model_image

SESSION_LABEL = "io.pyml.test-session"
SESSION_ID = uuid.uuid4().hex[:12]
CANCER = "lt-breast-cancer"
TENSOR = "lt-softmax"
FAKE_SHA = "ab" * 32
# Build times and sizes, shown at the end of the run.
TIMINGS: dict[str, str] = {}


@pytest.fixture(scope="session")
def built_tags(docker_engine: Any) -> Iterator[list[str]]:
    """Tags the tests built, removed at the end with the layers only they used.

    The pinned runtime layer stays (the builder tags it), so the next session builds fast;
    nothing is left dangling.
    """
    import docker.errors

    tags: list[str] = []
    yield tags
    for tag in tags:
        with contextlib.suppress(docker.errors.NotFound):
            docker_engine.api.remove_image(tag)


@pytest.fixture(scope="session")
def build(base_image: str, built_tags: list[str]) -> Callable[..., BuiltImage]:
    """build(home, name, version=1): a model image, timed, its tag cleaned up at the end."""

    def run(home: Path, name: str, version: int = 1, progress: bool = True) -> BuiltImage:
        tag = image_tag(name, version)
        built_tags.append(tag)
        built = build_model_image(
            home,
            name=name,
            version=version,
            content_sha256=FAKE_SHA,
            base_image=base_image,
            progress=progress,
        )
        TIMINGS[tag] = f"{built.seconds:.1f} s, {built.size_bytes / 1e6:.0f} MB"
        return built

    return run


@pytest.fixture(scope="session")
def cancer_image(build: Callable[..., BuiltImage], cancer_home: Path) -> BuiltImage:
    return build(cancer_home, CANCER)


@pytest.fixture(scope="session")
def tensor_image(build: Callable[..., BuiltImage], tensor_home: Path) -> BuiltImage:
    return build(tensor_home, TENSOR)


@pytest.fixture(scope="session")
def session_containers(docker_engine: Any) -> Iterator[dict[str, str]]:
    """Labels for the containers tests start; every one of them is removed at the end."""
    labels = {SESSION_LABEL: SESSION_ID}
    yield labels
    for container in docker_engine.containers.list(all=True, filters={"label": f"{SESSION_LABEL}"}):
        if container.labels.get(SESSION_LABEL) == SESSION_ID:
            container.remove(force=True)


@pytest.fixture()
def home_copy(tmp_path: Path) -> Callable[[Path], Path]:
    """A writable copy of a built home, for tests that break it on purpose."""

    def copy(home: Path) -> Path:
        return Path(shutil.copytree(home, tmp_path / home.name))

    return copy


@pytest.fixture()
def socket_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Short: a Unix socket path has 107 bytes at most.
    return tmp_path_factory.mktemp("sock")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMINGS:
        terminalreporter.section("model image builds")
        for tag, timing in TIMINGS.items():
            terminalreporter.write_line(f"{tag}: {timing}")
