"""Bounded waits (on a gateway's deployments, or any condition), shared by the end-to-end
suites."""

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


def await_true(condition: Callable[[], bool], within: float, what: str) -> None:
    """Polls (bounded) until `condition` holds; fails naming `what`."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not {what} within {within} s"
        time.sleep(0.1)
