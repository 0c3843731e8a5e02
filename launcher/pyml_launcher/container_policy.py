"""The one hardening policy of model containers, read from ``container_policy.json``.

The gateway (Java) reads the same file from its jar, so the serving containers it starts,
the ones `pyml_launcher.local` starts and the offline job's are hardened alike.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def container_policy() -> dict[str, Any]:
    text = resources.files("pyml_launcher").joinpath("container_policy.json").read_text()
    policy: dict[str, Any] = json.loads(text)
    return policy


def hardened_run_options(*, runtime: bool) -> dict[str, Any]:
    """`docker.containers.run` keyword arguments of the policy; `runtime`: a serving runtime
    (its user and /tmp too)."""
    policy = container_policy()
    options: dict[str, Any] = {
        "network_mode": policy["network_mode"],
        "read_only": policy["read_only_rootfs"],
        "cap_drop": list(policy["cap_drop"]),
        "security_opt": list(policy["security_opt"]),
        "log_config": dict(policy["log_config"]),
    }
    if runtime:
        options["user"] = policy["runtime"]["user"]
        options["tmpfs"] = dict(policy["runtime"]["tmpfs"])
    return options
