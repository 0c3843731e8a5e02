"""The Docker engine connection (the `docker` SDK is an optional extra: imported lazily)."""

from __future__ import annotations

import functools
from typing import Any

# Long enough for a base image import or a slow engine; builds pass their own (no) timeout.
API_TIMEOUT_SECONDS = 600


class EngineUnavailable(RuntimeError):
    """No Docker engine answers (or the `docker` SDK is not installed)."""

    # The message says what to do; the CLI's hint line points at the whole check.
    hint = "'pyml doctor' checks Docker, Java and the rest of what PyML uses"


@functools.lru_cache(maxsize=1)
def docker_client() -> Any:
    """A connected `docker.DockerClient` (DOCKER_HOST etc. honoured), or EngineUnavailable."""
    try:
        import docker
        import docker.errors
    except ImportError as exc:
        raise EngineUnavailable(
            "the `docker` Python package is missing: pip install 'pyml[docker]'"
        ) from exc
    try:
        client = docker.from_env(timeout=API_TIMEOUT_SECONDS)
        client.ping()
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(
            "no Docker engine answers: start Docker (apt-get install docker.io; in a PyML "
            f"checkout, scripts/ensure_docker.sh does both) ({exc})"
        ) from exc
    return client
