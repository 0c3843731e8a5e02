"""What `docker inspect` must show of a container hardened by container_policy.json: the
gateway's, pyml_launcher.local's and the offline job's end-to-end tests assert the same file."""

from __future__ import annotations

from typing import Any

from pyml_launcher.container_policy import Use, hardened_run_options


def assert_hardened(attrs: dict[str, Any], use: Use) -> None:
    """`attrs`: a container's inspect; `use`: which section of the policy it was started by."""
    expected = hardened_run_options(use)
    host = attrs["HostConfig"]
    assert attrs["Config"]["User"] == expected["user"]
    assert host["NetworkMode"] == expected["network_mode"]
    assert host["ReadonlyRootfs"] is expected["read_only"]
    assert host["CapDrop"] == expected["cap_drop"]
    assert host["SecurityOpt"] == expected["security_opt"]
    assert host["Tmpfs"] == expected["tmpfs"]
    log = expected["log_config"]
    assert host["LogConfig"] == {"Type": log["type"], "Config": log["config"]}
    assert host["Memory"] > 0 and host["MemorySwap"] == host["Memory"]  # no swap
    assert host["NanoCpus"] > 0 and host["PidsLimit"] > 0
    if "pids_limit" in expected:
        assert host["PidsLimit"] == expected["pids_limit"]
    if "hostname" in expected:
        assert attrs["Config"]["Hostname"] == expected["hostname"]
