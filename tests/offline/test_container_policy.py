"""The offline job's container is hardened by container_policy.json's shared settings and its
"offline" section, as `docker inspect` shows them. The container is the runner's own
(`_run_container`, which every job goes through) with a trivial command instead of Spark: the
job itself runs through the CLI in test_in_image.py, in a process this test cannot inspect."""

from __future__ import annotations

import os
from typing import Any

import pytest

from pyml.version import ModelVersion
from pyml_offline import runner
from tests.hardening import assert_hardened

MiB = 1024 * 1024


def test_the_job_container_follows_the_policy(
    packaged_cancer: ModelVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    inspected: dict[str, Any] = {}
    follow = runner._follow

    def inspect_then_follow(container: Any, *args: Any) -> str:
        output = follow(container, *args)
        container.reload()  # before the runner removes it
        inspected.update(container.attrs)
        return output

    monkeypatch.setattr(runner, "_follow", inspect_then_follow)
    settings = runner.ContainerSettings(cores=1, memory="256m", timeout_seconds=120)
    argv = [runner.PYTHON, "-c", "import os; print(os.getuid())"]
    output = runner._run_container(
        str(packaged_cancer.image["tag"]), argv, {}, settings, "policy-test", progress=False
    )
    assert output.strip() == str(os.getuid())  # the caller's uid, as the policy names it
    assert_hardened(inspected, "offline")
    host = inspected["HostConfig"]
    assert (host["Memory"], host["NanoCpus"]) == (256 * MiB, 1_000_000_000)  # the job's own
