"""Bounded waits on a gateway's deployments, shared by the end-to-end suites."""

from __future__ import annotations

import time
from collections.abc import Callable

from pyml.client import Client, DeploymentInfo


def await_deployment(
    client: Client, name: str, done: Callable[[DeploymentInfo], bool], within: float = 60.0
) -> DeploymentInfo:
    """Polls (bounded) until `done`; fails with the last state."""
    deadline = time.monotonic() + within
    info = client.deployment(name)
    while not done(info) and time.monotonic() < deadline:
        time.sleep(0.1)
        info = client.deployment(name)
    assert done(info), info
    return info
