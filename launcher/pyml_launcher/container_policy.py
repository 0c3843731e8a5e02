"""The one hardening policy of model containers, read from ``container_policy.json``.

The gateway (Java) reads the same file from its jar, so the serving containers it starts,
the ones `pyml_launcher.local` starts and the offline job's are hardened alike. What differs
per use is named in the file's ``runtime`` and ``offline`` sections, nowhere else.
"""

from __future__ import annotations

import json
import os
from functools import cache
from importlib import resources
from typing import Any, Literal

Use = Literal["runtime", "offline"]
CALLER = "caller"  # the offline section's user: whoever runs the job, uid:gid


@cache
def container_policy() -> dict[str, Any]:
    text = resources.files("pyml_launcher").joinpath("container_policy.json").read_text()
    policy: dict[str, Any] = json.loads(text)
    return policy


def hardened_run_options(use: Use) -> dict[str, Any]:
    """`docker.containers.run` keyword arguments of the policy for `use`: a serving runtime
    or the offline job (limits that are per deployment or per job are the caller's)."""
    policy = container_policy()
    section = policy[use]
    options: dict[str, Any] = {
        "network_mode": policy["network_mode"],
        "read_only": policy["read_only_rootfs"],
        "cap_drop": list(policy["cap_drop"]),
        "security_opt": list(policy["security_opt"]),
        "log_config": dict(policy["log_config"]),
        "user": _user(section["user"]),
        "tmpfs": dict(section["tmpfs"]),
    }
    if use == "offline":
        options["pids_limit"] = section["pids_limit"]
        options["hostname"] = section["hostname"]
    return options


def _user(user: str) -> str:
    return f"{os.getuid()}:{os.getgid()}" if user == CALLER else user


def default_runtime_limits() -> tuple[int, int]:
    """A serving runtime's memory (bytes, no swap) and pids limits when none are given; the
    gateway's defaults too."""
    runtime = container_policy()["runtime"]
    return int(runtime["default_memory_bytes"]), int(runtime["default_pids_limit"])
