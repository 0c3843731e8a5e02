"""The gateway image's Dockerfile (pure): cache-friendly order and the in-container defaults."""

from __future__ import annotations

import json

from pyml_launcher.gateway_image import (
    JAR,
    JRE_PACKAGE,
    REGISTRY_DIR,
    STATE_DIR,
    WORK_DIR,
    gateway_dockerfile_steps,
    gateway_tag,
)

SHA = "0123456789ab" + "cd" * 26


def test_the_jre_layer_comes_before_the_jar_so_a_new_jar_rebuilds_seconds() -> None:
    steps = gateway_dockerfile_steps("pyml/base:bookworm-py3.11", SHA)
    stages = [step.stage for step in steps]
    assert stages[0] == "base" and steps[0].instruction == "FROM pyml/base:bookworm-py3.11"
    assert stages.index("jre") < stages.index("settings") < stages.index("jar")
    assert stages[-2:] == ["metadata", "metadata"]
    jre = steps[stages.index("jre")].instruction
    assert JRE_PACKAGE in jre and "rm -rf /var/lib/apt/lists/*" in jre


def test_the_container_listens_on_loopback_only_and_knows_its_mounts() -> None:
    # It runs on the host's network (gateway_container): 0.0.0.0 would be every interface,
    # Docker's bridges included, where other containers could call its admin API.
    text = "\n".join(s.instruction for s in gateway_dockerfile_steps("base", SHA))
    assert "PYML_GATEWAY_HOST=127.0.0.1" in text
    assert f"PYML_GATEWAY_WORK_DIR={WORK_DIR}" in text
    assert f"PYML_GATEWAY_REGISTRY_DIR={REGISTRY_DIR}" in text
    assert f"PYML_GATEWAY_STATE_DIR={STATE_DIR}" in text
    assert f'"-jar", "{JAR}"]' in text
    assert f'io.pyml.gateway.jar-sha256="{SHA}"' in text


def test_the_tag_is_the_jars_hash() -> None:
    assert gateway_tag(SHA) == "pyml/gateway:0123456789ab"


def test_docker_stop_signals_the_jvm_itself() -> None:
    # Exec form: java is PID 1 and gets SIGTERM from `docker stop` (a shell would not pass
    # it on); its shutdown hook drains the calls in flight and stops the model containers.
    instructions = [s.instruction for s in gateway_dockerfile_steps("base", SHA)]
    assert "STOPSIGNAL SIGTERM" in instructions
    [entrypoint] = [i for i in instructions if i.startswith("ENTRYPOINT ")]
    assert json.loads(entrypoint.removeprefix("ENTRYPOINT "))[0] == "java"
