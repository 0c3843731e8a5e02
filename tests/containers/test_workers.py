"""Runtime workers in a real container: a replica serves on two Python processes, the gateway
spreads calls over both, and a worker that dies takes its container down and gets it restarted."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
from docker.models.containers import Container

from pyml._internal.gateway_process import start_gateway
from pyml.client import Client
from pyml.version import ModelVersion
from pyml_runtime.workers import native_threads
from tests.containers.conftest import await_gone, labelled
from tests.polling import await_deployment, await_true

WHO_ANSWERS = pd.DataFrame({"x": [-6.0]})  # the faulty model answers its worker's pid
POOL_SIZE = pd.DataFrame({"x": [-7.0]})  # ... and its worker's OpenBLAS pool size


def _worker_pids(client: Client, calls: int) -> set[int]:
    # One call at a time: idle workers take calls in turns, so both answer.
    return {int(client.predict("faulty", WHO_ANSWERS)["y"][0]) for _ in range(calls)}


def test_two_workers_share_the_calls_and_the_cpus_and_a_killed_worker_restarts_the_replica(
    pyml_home: Path, packaged_faulty: ModelVersion
) -> None:
    gateway_id = f"pyml-wk-{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="pyml-wk-", dir="/tmp"))
    gateway = start_gateway(
        ["--work-dir", str(work), "--runtime-workers", "2", "--deploy-timeout-ms", "90000"],
        registry_dir=pyml_home / "registry",
        gateway_id=gateway_id,
    )
    try:
        with Client(gateway.target, timeout=60) as client:
            client.deploy("faulty")
            [container] = labelled(gateway_id, "faulty")
            assert container.labels["io.pyml.runtime-workers"] == "2"
            pids = _worker_pids(client, 6)
            assert len(pids) == 2, pids
            _assert_each_worker_has_its_share_of_the_cpus(client, container)
            assert client.predict("faulty", pd.DataFrame({"x": [1.0, 2.0]}))["y"].tolist() == [
                2.0,
                4.0,
            ]

            victim = min(pids)
            container.exec_run(["python", "-c", f"import os; os.kill({victim}, 9)"])
            info = await_deployment(
                client, "faulty", lambda d: d.restarts >= 1 and d.ready_replicas == 1, 90
            )
            assert info.state == "READY"
            await_true(
                lambda: [c.id for c in labelled(gateway_id, "faulty")] != [container.id],
                30.0,
                "a new container",
            )
            assert container.id not in [c.id for c in labelled(gateway_id, "faulty")]
            assert len(_worker_pids(client, 6)) == 2

            client.undeploy("faulty")
            await_gone(gateway_id, "faulty")
    finally:
        gateway.stop()
        left = labelled(gateway_id)
        for leftover in left:
            leftover.remove(force=True)
        folders = sorted(p.name for p in work.iterdir())
        shutil.rmtree(work, ignore_errors=True)
    assert not left, f"containers left: {[c.name for c in left]}"
    assert not folders, f"socket folders left: {folders}"


def _assert_each_worker_has_its_share_of_the_cpus(client: Client, container: Container) -> None:
    # The runtime reads the container's CPU limit from its cgroup; two workers share it, and
    # each worker's OpenBLAS pool is sized to its share (wider pools spin against each other).
    cpus = container.attrs["HostConfig"]["NanoCpus"] / 1e9
    code, out = container.exec_run(
        ["python", "-c", "from pyml_runtime.workers import cpu_limit; print(cpu_limit())"]
    )
    assert code == 0 and float(out) == cpus, out
    sizes = {int(client.predict("faulty", POOL_SIZE)["y"][0]) for _ in range(6)}
    assert sizes == {native_threads(2, cpus)}
    # ... and each worker runs on CPUs of its own (the gateway asks for it), that many of them.
    pids = sorted(_worker_pids(client, 6))
    script = f"import os; print([sorted(os.sched_getaffinity(p)) for p in {pids}])"
    code, out = container.exec_run(["python", "-c", script])
    assert code == 0, out
    first, second = (set(cpus_of) for cpus_of in json.loads(out))
    if native_threads(2, cpus) < len(os.sched_getaffinity(0)):
        assert len(first) == len(second) == native_threads(2, cpus), out
        assert not first & second, out
