"""One hardening policy for every model container (the gateway's jar carries the same file)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from pyml_launcher.container_policy import (
    container_policy,
    default_runtime_limits,
    hardened_run_options,
)
from pyml_launcher.dockerfile import render_dockerfile
from tests.conftest import REPO
from tests.launcher.test_dockerfile import BARE

POLICY_FILE = REPO / "launcher" / "pyml_launcher" / "container_policy.json"


def test_the_loaded_policy_is_the_one_file() -> None:
    assert container_policy() == json.loads(Path(POLICY_FILE).read_text())


def test_the_image_is_built_for_the_policy() -> None:
    runtime = container_policy()["runtime"]
    text = render_dockerfile(BARE)
    assert f"USER {runtime['user']}" in text  # the image's USER
    assert f"{runtime['socket_dir']}/model.sock" in text  # where the entrypoint's socket lives


def test_every_use_gets_the_shared_settings_and_its_own_section() -> None:
    policy = container_policy()
    shared = {
        "network_mode": "none",
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "log_config": {"type": "json-file", "config": {"max-size": "1m", "max-file": "3"}},
    }
    assert hardened_run_options("runtime") == {
        **shared,
        "user": "65534:65534",
        "tmpfs": {"/tmp": "rw,nosuid,nodev,size=64m"},
    }
    # The offline job: the caller's uid (it writes the caller's warehouse), the JVM's needs.
    assert hardened_run_options("offline") == {
        **shared,
        "user": f"{os.getuid()}:{os.getgid()}",
        "tmpfs": policy["offline"]["tmpfs"],
        "pids_limit": policy["offline"]["pids_limit"],
        "hostname": "localhost",
    }


def test_the_runtime_default_limits_are_the_policys() -> None:
    assert default_runtime_limits() == (1024**3, 256)
