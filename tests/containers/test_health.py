"""/livez, /readyz and the gRPC health service of the real gateway while a real model container
deploys and after it is killed: not ready meanwhile, ready again after."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pyml._internal.gateway_process import GatewayProcess
from pyml.client import Client, DeploymentInfo
from tests.containers.conftest import labelled
from tests.polling import await_true

LOADING = {"PENDING", "STARTING", "LOADING", "VALIDATING"}


def readyz(gateway: GatewayProcess, query: str = "") -> tuple[int, dict[str, Any]]:
    url = f"http://127.0.0.1:{gateway.http_port}/readyz{query}"
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def grpc_health(port: int, service: str) -> int:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=10
        )
        return int(reply.status)


def state_of(body: dict[str, Any], model: str) -> str | None:
    return next((m["state"] for m in body["notReady"] if m["name"] == model), None)


def test_readiness_follows_a_deploy_and_a_crash_on_http_and_grpc(
    serving: Client,
    container_gateway: GatewayProcess,
    faulty: Callable[..., DeploymentInfo],
    gateway_id: str,
) -> None:
    gateway = container_gateway
    with urllib.request.urlopen(f"http://127.0.0.1:{gateway.http_port}/livez", timeout=10) as r:
        assert r.status == 200
    assert readyz(gateway, "?model=breast_cancer_lr&model=softmax_tensor") == (
        200,
        {"ready": True, "models": 2, "notReady": []},
    )
    serving_status = health_pb2.HealthCheckResponse.SERVING
    not_serving = health_pb2.HealthCheckResponse.NOT_SERVING
    assert grpc_health(gateway.grpc_port, "pyml.model/breast_cancer_lr") == serving_status

    # During a deploy: the whole gateway and the model are not ready, on every port.
    deploying = threading.Thread(target=faulty)
    deploying.start()
    try:
        await_true(lambda: state_of(readyz(gateway)[1], "faulty") in LOADING, 60, "seen deploying")
        status, body = readyz(gateway)
        assert status == 503 and body["ready"] is False, body
        for port in (gateway.grpc_port, gateway.oip_port):
            assert grpc_health(port, "") == not_serving
    finally:
        deploying.join(120)
    await_true(lambda: readyz(gateway, "?model=faulty")[0] == 200, 30, "ready after the deploy")
    await_true(
        lambda: grpc_health(gateway.oip_port, "pyml.model/faulty") == serving_status,
        10,
        "pyml.model/faulty SERVING",
    )

    # A crash: not ready until the runtime is restarted.
    [container] = labelled(gateway_id, "faulty")
    container.kill()
    await_true(
        lambda: state_of(readyz(gateway, "?model=faulty")[1], "faulty") == "STARTING",
        30,
        "not ready after the crash",
    )
    await_true(lambda: readyz(gateway, "?model=faulty")[0] == 200, 60, "ready after a restart")
    await_true(
        lambda: grpc_health(gateway.grpc_port, "pyml.model/faulty") == serving_status,
        10,
        "pyml.model/faulty SERVING again",
    )
    assert serving.deployment("faulty").restarts == 1
