"""Runtime workers in a real container: a replica serves on two Python processes, the gateway
sends a call to the first idle worker and to the other while that one is busy, and a worker
that dies takes its container down and gets it restarted."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
from docker.models.containers import Container

from pyml._internal.gateway_process import GatewayProcess, start_gateway
from pyml.client import Client
from pyml.version import ModelVersion
from pyml_runtime.workers import native_threads
from tests.containers.conftest import GATEWAY_LABEL, await_gone, labelled, metric_samples
from tests.polling import await_deployment, await_true

WHO = -6.0  # the faulty model answers its worker's pid
POOL_SIZE = -7.0  # ... or its worker's OpenBLAS pool size
HOLD = -4.0  # ... once a file `release` appears in its socket folder


def _each_workers_answer(
    client: Client, gateway: GatewayProcess, gateway_id: str, question: float
) -> list[int]:
    """Each of the two workers' answer to `question`. A call goes to the first idle worker, so
    calls one at a time all go to the first: the second is sent while the first is held."""
    [container] = labelled(gateway_id, "faulty")
    release = Path(container.attrs["Mounts"][0]["Source"]) / "release"
    in_flight = 'pyml_predict_in_flight{model="faulty"}'
    rows = pd.DataFrame({"x": [HOLD, question]})
    with ThreadPoolExecutor(2) as pool:
        held = []
        try:
            for count in (1, 2):
                held.append(pool.submit(client.predict, "faulty", rows, None, 60))
                deadline = time.monotonic() + 30
                while metric_samples(gateway).get(in_flight) != count:
                    assert time.monotonic() < deadline and not held[-1].done(), held[-1]
                    time.sleep(0.05)
        finally:  # also on a red run: never leave the calls (and the test) hanging
            release.touch()
        answers = [int(call.result(timeout=60)["y"][0]) for call in held]
    release.unlink()
    return answers


def _worker_pids(client: Client, gateway: GatewayProcess, gateway_id: str) -> set[int]:
    return set(_each_workers_answer(client, gateway, gateway_id, WHO))


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
            pids = _worker_pids(client, gateway, gateway_id)
            assert len(pids) == 2, pids
            # One call at a time: the first idle worker takes each (its CPU's caches stay warm).
            who = pd.DataFrame({"x": [WHO]})
            alone = {int(client.predict("faulty", who)["y"][0]) for _ in range(4)}
            assert len(alone) == 1 and alone <= pids, (alone, pids)
            _assert_each_worker_has_its_share_of_the_cpus(client, gateway, container, pids)
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
            assert len(_worker_pids(client, gateway, gateway_id)) == 2

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


def _assert_each_worker_has_its_share_of_the_cpus(
    client: Client, gateway: GatewayProcess, container: Container, worker_pids: set[int]
) -> None:
    # The runtime reads the container's CPU limit from its cgroup; two workers share it, and
    # each worker's OpenBLAS pool is sized to its share (wider pools spin against each other).
    cpus = container.attrs["HostConfig"]["NanoCpus"] / 1e9
    code, out = container.exec_run(
        ["python", "-c", "from pyml_runtime.workers import cpu_limit; print(cpu_limit())"]
    )
    assert code == 0 and float(out) == cpus, out
    sizes = _each_workers_answer(client, gateway, container.labels[GATEWAY_LABEL], POOL_SIZE)
    assert sizes == [native_threads(2, cpus)] * 2
    # ... and each worker runs on CPUs of its own (the gateway asks for it), that many of them.
    pids = sorted(worker_pids)
    script = f"import os; print([sorted(os.sched_getaffinity(p)) for p in {pids}])"
    code, out = container.exec_run(["python", "-c", script])
    assert code == 0, out
    first, second = (set(cpus_of) for cpus_of in json.loads(out))
    if native_threads(2, cpus) < len(os.sched_getaffinity(0)):
        assert len(first) == len(second) == native_threads(2, cpus), out
        assert not first & second, out
