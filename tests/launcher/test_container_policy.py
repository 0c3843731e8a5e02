"""One hardening policy for every model container (the gateway's jar carries the same file)."""

from __future__ import annotations

from pyml_launcher.container_policy import container_policy, hardened_run_options
from pyml_launcher.dockerfile import RUN_USER, SOCKET_DIR


def test_the_policy_matches_the_image() -> None:
    runtime = container_policy()["runtime"]
    assert runtime["user"] == RUN_USER  # the image's USER
    assert runtime["socket_dir"] == SOCKET_DIR  # where the entrypoint's socket lives


def test_runtimes_get_user_and_tmp_and_every_container_the_rest() -> None:
    shared = hardened_run_options(runtime=False)
    assert shared == {
        "network_mode": "none",
        "read_only": True,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "log_config": {"type": "json-file", "config": {"max-size": "1m", "max-file": "3"}},
    }
    runtime = hardened_run_options(runtime=True)
    assert runtime == {
        **shared,
        "user": "65534:65534",
        "tmpfs": {"/tmp": "rw,nosuid,nodev,size=64m"},
    }
