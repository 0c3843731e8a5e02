"""Production's nested mode: the gateway runs in a container with the Docker socket and
starts the model containers beside itself; clients on the host reach it on loopback ports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from pyml._internal.gateway_container import GatewayContainer, start_gateway_container
from pyml._internal.gateway_process import GatewayStartError
from pyml.client import Client
from pyml.model import Model
from pyml.version import ModelVersion
from pyml_launcher.image import BuiltImage
from tests.containers.conftest import await_gone, labelled
from tests.nested.conftest import gateway_containers
from tests.polling import await_deployment

SIGTERM_EXIT = 143  # the JVM's exit after SIGTERM, once its shutdown hook has run


def test_a_gateway_container_serves_a_version_from_a_model_container_beside_it(
    start_nested: Callable[[], GatewayContainer],
    packaged_cancer: ModelVersion,
    cancer_home: Path,
    cancer_rows: pd.DataFrame,
) -> None:
    gateway = start_nested()
    # On the host's network, listening on its loopback only (tests/security/test_transport.py
    # checks that other containers cannot reach it).
    assert gateway.container.attrs["HostConfig"]["NetworkMode"] == "host"
    assert "--host" in gateway.container.attrs["Args"]
    assert gateway.container.attrs["Args"][gateway.container.attrs["Args"].index("--host") + 1] == (
        "127.0.0.1"
    )

    with Client(gateway.target, timeout=60) as client:
        info = client.deploy(packaged_cancer.name)
        assert (info.state, info.model_version, info.image) == (
            "READY",
            packaged_cancer.version,
            packaged_cancer.image["id"],
        )
        [model] = labelled(gateway.gateway_id, packaged_cancer.name)
        [mount] = model.attrs["Mounts"]
        # The engine got the socket folder by its host path, not the gateway's own.
        assert Path(mount["Source"]).parent == gateway.work_dir
        assert mount["Destination"] == "/run/pyml"
        assert [p.name for p in gateway.work_dir.iterdir()] == [Path(mount["Source"]).name]

        rows = cancer_rows.head(50)
        online = client.predict(packaged_cancer.name, rows)
        local = Model.from_home(cancer_home).predict(rows)
        pd.testing.assert_frame_equal(online, local, rtol=0, atol=0)

        client.undeploy(packaged_cancer.name)
        await_gone(gateway.gateway_id, packaged_cancer.name)

    assert list(gateway.work_dir.iterdir()) == [], "undeploy removes the socket folder"
    code = gateway.stop()
    assert code == SIGTERM_EXIT, gateway.final_log
    assert gateway_containers(gateway.gateway_id) == []
    assert labelled(gateway.gateway_id) == []


def test_docker_stop_of_the_gateway_removes_the_model_containers_it_started(
    start_nested: Callable[[], GatewayContainer], packaged_cancer: ModelVersion
) -> None:
    gateway = start_nested()
    with Client(gateway.target, timeout=60) as client:
        client.deploy(packaged_cancer.name, replicas=2)
    assert len(labelled(gateway.gateway_id, packaged_cancer.name)) == 2

    code = gateway.stop()  # docker stop: SIGTERM → the gateway's shutdown hook

    assert code == SIGTERM_EXIT, gateway.final_log
    assert labelled(gateway.gateway_id) == [], "the shutdown hook removed the model containers"
    assert gateway_containers(gateway.gateway_id) == []
    assert list(gateway.work_dir.iterdir()) == [], "and their socket folders"


def test_a_new_gateway_container_with_the_same_id_serves_what_the_last_one_served(
    start_nested: Callable[..., GatewayContainer],
    packaged_cancer: ModelVersion,
    cancer_rows: pd.DataFrame,
) -> None:
    first = start_nested()
    with Client(first.target, timeout=60) as client:
        client.deploy(packaged_cancer.name)
        expected = client.predict(packaged_cancer.name, cancer_rows.head(3))
    assert first.stop() == SIGTERM_EXIT, first.final_log

    # Its desired deployments live in a host folder, not in the removed container.
    second = start_nested(first.gateway_id)
    with Client(second.target, timeout=60) as client:
        info = await_deployment(client, packaged_cancer.name, lambda d: d.state == "READY", 90)
        assert info.model_version == packaged_cancer.version
        answer = client.predict(packaged_cancer.name, cancer_rows.head(3))
    pd.testing.assert_frame_equal(answer, expected)


def test_a_second_gateway_with_a_running_gateways_id_is_refused(
    start_nested: Callable[[], GatewayContainer], gateway_image: BuiltImage, pyml_home: Path
) -> None:
    gateway = start_nested()
    # Two gateways with one id would remove each other's model containers.
    with pytest.raises(GatewayStartError, match="already running"):
        start_gateway_container(
            gateway_image.tag, registry_dir=pyml_home / "registry", gateway_id=gateway.gateway_id
        )
    assert len(gateway_containers(gateway.gateway_id)) == 1


def test_the_gateway_image_maps_the_class_archive_made_in_it(gateway_image: BuiltImage) -> None:
    """Made at the image's build by its own JRE from its jar (`gateway_class_archive.sh`), and
    named by its entrypoint: -Xshare:on makes a JVM that cannot map it refuse to start."""
    import docker

    from pyml_launcher.gateway_image import ARCHIVE, JAR

    entrypoint = docker.from_env().images.get(gateway_image.tag).attrs["Config"]["Entrypoint"]
    assert f"-XX:SharedArchiveFile={ARCHIVE}" in entrypoint
    java = ["-Xshare:on", f"-XX:SharedArchiveFile={ARCHIVE}", "-cp", JAR, "-version"]
    said = docker.from_env().containers.run(
        gateway_image.tag, java, entrypoint="java", network_mode="none", remove=True, stderr=True
    )
    assert b"sharing" in said, said
