"""The gateway as a container, starting model containers beside it on the same engine.

The gateway image is built once per session from this checkout's jar (cached layers make a
rebuild of an unchanged jar take seconds). Each test starts its own gateway container with a
unique gateway id and its own host work dir; teardown removes whatever carries that id (the
gateway container by its own label, model containers by ``io.pyml.gateway``), then fails if
anything was left. Missing Docker is a failure with a clear message, never a skip.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyml._internal.gateway_container import (
    CONTAINER_LABEL,
    GatewayContainer,
    start_gateway_container,
)
from pyml_launcher.image import BuiltImage
from tests.containers.conftest import labelled

_IDS = itertools.count()


@pytest.fixture(scope="session")
def gateway_image(base_image: str) -> BuiltImage:
    """This checkout's jar in the gateway image (kept: it is the gateway image, not a test's)."""
    from pyml._internal.gateway_process import GatewayStartError, gateway_jar
    from pyml_launcher.gateway_image import build_gateway_image

    try:
        jar = gateway_jar()
    except GatewayStartError as exc:
        pytest.fail(str(exc), pytrace=False)
    return build_gateway_image(jar, base_image=base_image, progress=False)


def gateway_containers(gateway_id: str) -> list[Any]:
    import docker

    labels = [f"{CONTAINER_LABEL}={gateway_id}"]
    return list(docker.from_env().containers.list(all=True, filters={"label": labels}))


@pytest.fixture()
def start_nested(
    gateway_image: BuiltImage, pyml_home: Path
) -> Iterator[Callable[..., GatewayContainer]]:
    """start_nested(): a gateway container on the session's registry, cleaned up after;
    start_nested(gateway.gateway_id): a new one with a stopped gateway's id (its state)."""
    started: list[tuple[GatewayContainer, Path]] = []

    def start(gateway_id: str | None = None) -> GatewayContainer:
        gateway_id = gateway_id or f"pyml-nt-{os.getpid()}-{next(_IDS)}"
        # A work dir of the test's, not the gateway's: its contents are checked after stop.
        work = Path(tempfile.mkdtemp(prefix="pyml-nt-"))
        try:
            gateway = start_gateway_container(
                gateway_image.tag,
                registry_dir=pyml_home / "registry",
                gateway_id=gateway_id,
                work_dir=work,
                extra_args=["--deploy-timeout-ms", "90000"],
            )
        except BaseException:
            _remove_all(gateway_id)
            shutil.rmtree(work, ignore_errors=True)
            raise
        started.append((gateway, work))
        return gateway

    yield start
    left: list[str] = []
    # Every gateway stops first, newest first: a later one may carry an earlier one's id.
    for gateway, _ in reversed(started):
        with contextlib.suppress(Exception):
            gateway.stop()
    for gateway, work in started:
        left += _remove_all(gateway.gateway_id)
        left += [str(path) for path in work.iterdir()]
        shutil.rmtree(work, ignore_errors=True)
    assert not left, f"left behind by the nested gateways: {left}"


def _remove_all(gateway_id: str) -> list[str]:
    """Removes the gateway container and its model containers; returns their names."""
    found = gateway_containers(gateway_id) + labelled(gateway_id)
    for container in found:
        container.remove(force=True)
    return [str(container.name) for container in found]
